package io.peftfoundry.engine.task.causal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the training files of the causal tasks; a malformed record fails with its file and line number.
 * <ul>
 *   <li>{@code sft}: JSON Lines, one {@code {"prompt": "…", "completion": "…"}} per line (blank lines skipped).</li>
 *   <li>{@code continued_pretraining}: JSON Lines of {@code {"text": "…"}} (a file whose first non-blank
 *       character is '{'), or plain UTF-8 text where blank lines separate documents.</li>
 * </ul>
 */
public final class CausalData {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CausalData() {}

    public record SftPair(String prompt, String completion) {}

    public static List<SftPair> readSft(Path file) throws IOException {
        List<SftPair> out = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = parseLine(file, lineNo, line);
                JsonNode p = n.get("prompt");
                JsonNode c = n.get("completion");
                if (p == null || !p.isTextual() || c == null || !c.isTextual()) {
                    throw new IOException(file + " line " + lineNo + ": an sft record needs string fields \"prompt\" and"
                            + " \"completion\", got " + abbreviate(line));
                }
                if (c.asText().isEmpty()) {
                    throw new IOException(file + " line " + lineNo + ": \"completion\" is empty (nothing to learn)");
                }
                out.add(new SftPair(p.asText(), c.asText()));
            }
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no prompt/completion records");
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
