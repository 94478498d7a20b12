package io.peftfoundry.engine.task.causal.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's own chat template, rendered with Jinjava as transformers' {@code apply_chat_template} renders it with jinja2
 * (see {@link JinjaCompat} for the environment). Where it comes from, as transformers reads it: {@code chat_template.jinja}
 * beside {@code tokenizer_config.json} (transformers ≥ 4.5x writes it there) wins; otherwise the {@code chat_template}
 * field of {@code tokenizer_config.json} (a string, or a list of named templates of which {@code default} is used).
 * The template sees {@code messages}, {@code add_generation_prompt}, {@code tools} (when given) and the tokenizer's
 * special tokens as strings ({@code bos_token}, {@code eos_token}, {@code pad_token}, {@code unk_token}).
 *
 * <p>Assistant spans ({@link #renderWithAssistantSpans}): the characters assistant turn {@code i} adds are
 * {@code render(messages[0..i], add_generation_prompt=false)} minus its prefix {@code render(messages[0..i),
 * add_generation_prompt=true)} — the answer plus whatever the template closes the turn with (ChatML's
 * {@code <|im_end|>\n}, Llama 3's {@code <|eot_id|>}, Mistral's {@code </s>}), so the model learns to end its turn.
 * Each of these renders must be a prefix of the next and of the whole conversation's render; a template that rewrites
 * earlier turns once later ones follow is refused for training, naming the turn.
 */
public final class ChatTemplate {

    public static final String JINJA_FILE = "chat_template.jinja";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_TEMPLATE_BYTES = 1 << 20;

    /** A template error (a {@code raise_exception} call, a syntax error, an unknown function), with the template's words. */
    public static final class ChatTemplateException extends IllegalArgumentException {
        public ChatTemplateException(String message) {
            super(message);
        }
    }

    /** Rendered conversation and, per assistant turn, the [start, end) character range it adds. */
    public record Rendering(String text, List<int[]> assistantSpans) {}

    private final String source;
    private final String origin;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    public ChatTemplate(String source, String origin, Map<String, String> specialTokens) {
        this.source = source;
        this.origin = origin;
        this.specialTokens = new HashMap<>(specialTokens);
        this.jinjava = JinjaCompat.environment();
    }

    /** True when the directory holds a chat template (either place). */
    public static boolean exists(Path dir) {
        try {
            return find(dir) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /** The directory's template; a directory without one is refused naming both places looked in. */
    public static ChatTemplate load(Path dir) throws IOException {
        String[] found = find(dir);
        if (found == null) {
            throw new IOException(dir.resolve(TOKENIZER_CONFIG) + " has no \"chat_template\" and there is no "
                    + dir.resolve(JINJA_FILE) + ": this model has no chat template, so {\"messages\": …} data cannot be"
                    + " rendered (use {\"prompt\", \"completion\"} records, or add the model's chat template)");
        }
        return new ChatTemplate(found[0], found[1], specialTokenStrings(dir));
    }

    /** {template, origin} or null. */
    private static String[] find(Path dir) throws IOException {
        Path jinja = dir.resolve(JINJA_FILE);
        if (Files.isRegularFile(jinja)) {
            if (Files.size(jinja) > MAX_TEMPLATE_BYTES) {
                throw new IOException(jinja + " is larger than " + MAX_TEMPLATE_BYTES + " bytes");
            }
            return new String[] {Files.readString(jinja, StandardCharsets.UTF_8), jinja.toString()};
        }
        Path cfg = dir.resolve(TOKENIZER_CONFIG);
        if (!Files.isRegularFile(cfg)) {
            return null;
        }
        JsonNode t = JSON.readTree(cfg.toFile()).get("chat_template");
        if (t != null && t.isTextual() && !t.asText().isBlank()) {
            return new String[] {t.asText(), cfg + " chat_template"};
        }
        if (t != null && t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return new String[] {named.get("template").asText(), cfg + " chat_template[default]"};
                }
            }
        }
        return null;
    }

    /**
     * The tokenizer's special tokens as strings, as transformers passes them to the template: {@code tokenizer_config.json}
     * ({@code "eos_token": "…"} or an AddedToken object with {@code content}), then {@code special_tokens_map.json}.
     */
    public static Map<String, String> specialTokenStrings(Path dir) throws IOException {
        Map<String, String> out = new HashMap<>();
        for (String file : new String[] {SPECIAL_TOKENS_MAP, TOKENIZER_CONFIG}) { // tokenizer_config.json wins
            Path p = dir.resolve(file);
            if (!Files.isRegularFile(p)) {
                continue;
            }
            JsonNode n = JSON.readTree(p.toFile());
            for (String key : new String[] {"bos_token", "eos_token", "pad_token", "unk_token"}) {
                JsonNode v = n.get(key);
                if (v != null && v.isTextual()) {
                    out.put(key, v.asText());
                } else if (v != null && v.path("content").isTextual()) {
                    out.put(key, v.get("content").asText());
                }
            }
        }
        return out;
    }

    /** Where the template was read from (a file, or a field of tokenizer_config.json). */
    public String origin() {
        return origin;
    }

    public String source() {
        return source;
    }

    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, null);
    }

    /** apply_chat_template(messages, tools=tools, add_generation_prompt=…, tokenize=False). */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, List<?> tools) {
        Map<String, Object> ctx = new HashMap<>(specialTokens);
        ctx.put("messages", messages);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        if (tools != null) {
            ctx.put("tools", tools);
        }
        RenderResult r;
        try {
            r = jinjava.renderForResult(source, ctx);
        } catch (JinjaCompat.TemplateRaised e) {
            throw new ChatTemplateException("the chat template (" + origin + ") refused the conversation: " + e.getMessage());
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                Throwable cause = e.getException();
                while (cause != null && !(cause instanceof JinjaCompat.TemplateRaised)) {
                    cause = cause.getCause();
                }
                String what = cause != null ? "refused the conversation: " + cause.getMessage()
                        : "failed at line " + e.getLineno() + ": " + e.getMessage();
                throw new ChatTemplateException("the chat template (" + origin + ") " + what);
            }
        }
        return r.getOutput();
    }

    /** The whole conversation rendered (no generation prompt) with each assistant turn's span (see the class comment). */
    public Rendering renderWithAssistantSpans(List<? extends Map<String, ?>> messages) {
        return renderWithAssistantSpans(messages, null);
    }

    public Rendering renderWithAssistantSpans(List<? extends Map<String, ?>> messages, List<?> tools) {
        String full = render(messages, false, tools);
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!"assistant".equals(messages.get(i).get("role"))) {
                continue;
            }
            String before = render(messages.subList(0, i), true, tools);
            String through = render(messages.subList(0, i + 1), false, tools);
            if (!through.startsWith(before) || !full.startsWith(through)) {
                throw new ChatTemplateException("the chat template (" + origin + ") renders message " + (i + 1)
                        + " (assistant) differently once later messages follow, so its tokens cannot be told apart for the"
                        + " loss (the prefix rendering with add_generation_prompt must be a prefix of the full rendering)");
            }
            if (through.length() > before.length()) {
                spans.add(new int[] {before.length(), through.length()});
            }
        }
        return new Rendering(full, spans);
    }
}
