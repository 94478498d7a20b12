package io.peftfoundry.engine.task.causal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the training files of the causal tasks; a malformed record fails with its file and line number.
 * <ul>
 *   <li>{@code sft}: JSON Lines (blank lines skipped), each either {@code {"prompt": "…", "completion": "…"}} or an OpenAI chat
 *       conversation {@code {"messages": [{"role": "system"|"user"|"assistant", "content": "…"}, …]}} with at least one
 *       assistant message that has content ({@link #checkMessages}); a file may mix both.</li>
 *   <li>{@code continued_pretraining}: JSON Lines of {@code {"text": "…"}} (a file whose first non-blank
 *       character is '{'), or plain UTF-8 text where blank lines separate documents.</li>
 * </ul>
 */
public final class CausalData {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CausalData() {}

    /** One sft record: a prompt/completion pair or a chat conversation. */
    public sealed interface SftExample permits SftPair, ChatExample {}

    public record SftPair(String prompt, String completion) implements SftExample {}

    /** {@code messages} as parsed (role, content and any other fields of each message), {@code line} in its file. */
    public record ChatExample(List<Map<String, Object>> messages, int line) implements SftExample {

        /** Messages before the last assistant message (the prompt of an exact-match check) and that message's content. */
        public List<Map<String, Object>> promptMessages() {
            return messages.subList(0, lastAssistant());
        }

        public String lastAssistantContent() {
            return (String) messages.get(lastAssistant()).get("content");
        }

        private int lastAssistant() {
            for (int i = messages.size() - 1; i >= 0; i--) {
                if ("assistant".equals(messages.get(i).get("role"))) {
                    return i;
                }
            }
            throw new IllegalStateException("no assistant message");
        }
    }

    /** Roles a chat message may have. */
    public static final List<String> CHAT_ROLES = List.of("system", "user", "assistant");
    /** Messages per conversation at most. */
    public static final int MAX_MESSAGES = 1024;

    /**
     * What is wrong with a {@code {"messages": …}} record, or null when it is a usable conversation: an array of 1 to
     * {@value #MAX_MESSAGES} objects, each with {@code role} system, user or assistant and a string {@code content}
     * (OpenAI's content-part arrays are not accepted), and at least one assistant message with non-blank content.
     */
    public static String checkMessages(JsonNode messages) {
        if (messages == null || !messages.isArray()) {
            return "\"messages\" must be an array of {\"role\", \"content\"} objects";
        }
        if (messages.isEmpty() || messages.size() > MAX_MESSAGES) {
            return "\"messages\" must hold 1 to " + MAX_MESSAGES + " messages, got " + messages.size();
        }
        boolean answered = false;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                return where + " is not an object";
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !CHAT_ROLES.contains(role.asText())) {
                return where + ".role must be one of " + CHAT_ROLES + ", got " + (role == null ? "nothing" : role);
            }
            JsonNode content = m.get("content");
            if (content == null || !content.isTextual()) {
                return where + ".content must be a string" + (content != null && content.isArray()
                        ? " (content-part arrays are not supported)" : "");
            }
            answered |= role.asText().equals("assistant") && !content.asText().isBlank();
        }
        return answered ? null : "no assistant message with content: nothing to learn";
    }

    public static List<SftExample> readSft(Path file) throws IOException {
        List<SftExample> out = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = parseLine(file, lineNo, line);
                if (n.has("messages")) {
                    String problem = checkMessages(n.get("messages"));
                    if (problem != null) {
                        throw new IOException(file + " line " + lineNo + ": " + problem);
                    }
                    out.add(new ChatExample(JSON.convertValue(n.get("messages"), new TypeReference<List<Map<String, Object>>>() {}),
                            lineNo));
                    continue;
                }
                JsonNode p = n.get("prompt");
                JsonNode c = n.get("completion");
                if (p == null || !p.isTextual() || c == null || !c.isTextual()) {
                    throw new IOException(file + " line " + lineNo + ": an sft record needs string fields \"prompt\" and"
                            + " \"completion\", or \"messages\", got " + abbreviate(line));
                }
                if (c.asText().isEmpty()) {
                    throw new IOException(file + " line " + lineNo + ": \"completion\" is empty (nothing to learn)");
                }
                out.add(new SftPair(p.asText(), c.asText()));
            }
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no prompt/completion or messages records");
        }
        return out;
    }

    public static List<String> readDocuments(Path file) throws IOException {
        String all = Files.readString(file, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        if (all.stripLeading().startsWith("{")) {
            String[] lines = all.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) {
                    continue;
                }
                JsonNode n = parseLine(file, i + 1, lines[i]);
                JsonNode t = n.get("text");
                if (t == null || !t.isTextual()) {
                    throw new IOException(file + " line " + (i + 1) + ": a continued_pretraining JSON Lines record needs"
                            + " a string field \"text\", got " + abbreviate(lines[i]));
                }
                if (!t.asText().isBlank()) {
                    out.add(t.asText());
                }
            }
        } else {
            for (String doc : all.split("\\R\\s*\\R")) {
                if (!doc.isBlank()) {
                    out.add(doc.strip());
                }
            }
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no text");
        }
        return out;
    }

    private static JsonNode parseLine(Path file, int lineNo, String line) throws IOException {
        try {
            JsonNode n = JSON.readTree(line);
            if (n == null || !n.isObject()) {
                throw new IOException(file + " line " + lineNo + ": not a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new IOException(file + " line " + lineNo + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
