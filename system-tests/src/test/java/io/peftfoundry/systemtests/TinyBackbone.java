package io.peftfoundry.systemtests;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * A tiny random BERT in Hugging Face layout ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json}):
 * 2 layers, hidden 32, a whole-word WordPiece vocabulary made of the words of the given datasets. Random weights are
 * enough: the tests check the pipeline (a LoRA + head on a frozen random encoder still learns the smoke set a bit).
 */
final class TinyBackbone {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] SPECIALS = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

    private TinyBackbone() {
    }

    static Path write(Path dir, List<Path> datasets, long seed) throws IOException {
        return write(dir, datasets, seed, words -> BertConfig.tiny(SPECIALS.length + words, 32, 2, 2, 64));
    }

    /**
     * A random BERT of the given sizes (dropout 0.1 as in BERT, 512 positions) over the datasets' words: real shapes for
     * measuring memory, without downloading weights.
     */
    static Path write(Path dir, List<Path> datasets, long seed, int hidden, int layers, int heads, int intermediate)
            throws IOException {
        return write(dir, datasets, seed, words -> new BertConfig(SPECIALS.length + words, hidden, layers, heads,
                intermediate, "gelu", 0.1f, 0.1f, 512, 2, 1e-12f, 0));
    }

    private static Path write(Path dir, List<Path> datasets, long seed,
                              java.util.function.IntFunction<BertConfig> configForWords) throws IOException {
        TreeSet<String> words = new TreeSet<>();
        for (Path file : datasets) {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                // the BERT pre-tokenizer splits on whitespace and punctuation; lowercase as the normalizer does
                for (String w : n.path("text").asText().toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
                    if (!w.isEmpty()) {
                        words.add(w);
                    }
                }
            }
        }
        Files.createDirectories(dir);
        writeTokenizer(dir.resolve("tokenizer.json"), words);
        BertConfig config = configForWords.apply(words.size());
        try (NDManager m = NDManager.newBaseManager()) {
            BertCheckpoint.save(BertCheckpoint.random(config, m, seed, DataType.FLOAT32), dir);
        }
        return dir;
    }

    private static void writeTokenizer(Path file, TreeSet<String> words) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.length; i++) {
            added.addObject().put("id", i).put("content", SPECIALS[i]).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).put("lowercase", true).putNull("strip_accents");
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        single.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 1);
        ObjectNode specialTokens = post.putObject("special_tokens");
        for (String s : new String[] {"[CLS]", "[SEP]"}) {
            ObjectNode t = specialTokens.putObject(s);
            t.put("id", s);
            t.putArray("ids").add(s.equals("[CLS]") ? 2 : 3);
            t.putArray("tokens").add(s);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < SPECIALS.length; i++) {
            vocab.put(SPECIALS[i], i);
        }
        int id = SPECIALS.length;
        for (String w : words) {
            vocab.put(w, id++);
        }
        JSON.writeValue(file.toFile(), root);
    }
}
