package io.peftfoundry.engine.task.causal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A decoder directory's special tokens, resolved as transformers resolves them.
 * <ul>
 *   <li>{@code generationEosIds}: where generation stops — {@code generation_config.json}'s {@code eos_token_id} (an id or a
 *       list, e.g. Llama 3 Instruct's [128001, 128008, 128009]), else {@code config.json}'s (what
 *       {@code GenerationConfig.from_model_config} takes), else the tokenizer's {@code eos_token}.</li>
 *   <li>{@code sequenceEosId}: the token that ends a prompt/completion pair and separates packed documents — the
 *       tokenizer's {@code eos_token} ({@code tokenizer_config.json} / {@code special_tokens_map.json}, as TRL appends
 *       {@code tokenizer.eos_token}), else the first of config.json's {@code eos_token_id}.</li>
 *   <li>{@code bosId}: {@code generation_config.json} / {@code config.json} {@code bos_token_id}, else the tokenizer's
 *       {@code bos_token}; -1 when there is none (chat templates write their own BOS text).</li>
 *   <li>{@code padId}: {@code generation_config.json} / {@code config.json} {@code pad_token_id}, else the tokenizer's
 *       {@code pad_token}, else {@code sequenceEosId} (padded positions are masked, never targets).</li>
 * </ul>
 */
public record SpecialTokens(long bosId, long sequenceEosId, long[] generationEosIds, long padId) {

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String GENERATION_CONFIG = "generation_config.json";

    /** Only config.json's ids (directories without tokenizer files, tests). */
    public static SpecialTokens ofConfigEos(long eosId) {
        return new SpecialTokens(-1, eosId, new long[] {eosId}, eosId);
    }

    /**
     * @param defaultEos the architecture's default when no file names an eos (the config classes' own default,
     *        GPT-2's 50256, LLaMA's 2), or -1 to refuse such a directory
     */
    public static SpecialTokens read(Path dir, CausalTokenizer tokenizer, long defaultEos) throws IOException {
        JsonNode config = readJson(dir.resolve("config.json"));
        JsonNode generation = readJson(dir.resolve(GENERATION_CONFIG));
        Map<String, String> strings = ChatTemplate.specialTokenStrings(dir);
        long tokEos = idOf(tokenizer, strings.get("eos_token"));
        long tokBos = idOf(tokenizer, strings.get("bos_token"));
        long tokPad = idOf(tokenizer, strings.get("pad_token"));
        long[] configEos = ids(config.get("eos_token_id"));
        long[] genEos = ids(generation.get("eos_token_id"));

        long sequenceEos = tokEos >= 0 ? tokEos : configEos.length > 0 ? configEos[0] : -1;
        long[] stopAt = genEos.length > 0 ? genEos : configEos.length > 0 ? configEos : tokEos >= 0 ? new long[] {tokEos} : new long[0];
        if (sequenceEos < 0 && stopAt.length > 0) {
            sequenceEos = stopAt[0];
        }
        if (sequenceEos < 0 && defaultEos >= 0) {
            sequenceEos = defaultEos;
            stopAt = new long[] {defaultEos};
        }
        if (sequenceEos < 0) {
            throw new IOException(dir + ": no end-of-sequence token: neither config.json nor generation_config.json has"
                    + " eos_token_id and tokenizer_config.json has no eos_token");
        }
        long bos = first(ids(generation.get("bos_token_id")), first(ids(config.get("bos_token_id")), tokBos));
        long pad = first(ids(generation.get("pad_token_id")), first(ids(config.get("pad_token_id")), tokPad >= 0 ? tokPad : sequenceEos));
        return new SpecialTokens(bos, sequenceEos, stopAt, pad);
    }

    public boolean isGenerationEos(long id) {
        for (long e : generationEosIds) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }

    private static long first(long[] ids, long otherwise) {
        return ids.length > 0 ? ids[0] : otherwise;
    }

    private static long idOf(CausalTokenizer tokenizer, String token) {
        return token == null || token.isEmpty() ? -1 : tokenizer.tokenId(token);
    }

    /** An id, a list of ids, or nothing (null / absent). */
    static long[] ids(JsonNode n) {
        if (n == null || n.isNull()) {
            return new long[0];
        }
        if (n.isIntegralNumber()) {
            return new long[] {n.asLong()};
        }
        List<Long> out = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(x -> {
                if (x.isIntegralNumber()) {
                    out.add(x.asLong());
                }
            });
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static JsonNode readJson(Path p) throws IOException {
        return Files.isRegularFile(p) ? JSON.readTree(p.toFile()) : JSON.createObjectNode();
    }

    @Override
    public String toString() {
        return "SpecialTokens[bos=" + bosId + ", eos=" + sequenceEosId + ", stop=" + Arrays.toString(generationEosIds)
                + ", pad=" + padId + "]";
    }
}
