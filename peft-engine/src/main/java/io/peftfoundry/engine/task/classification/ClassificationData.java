package io.peftfoundry.engine.task.classification;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads classification JSONL: one {@code {"text", "label", "text_pair"?}} object per line. */
public final class ClassificationData {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClassificationData() {}

    /** @param requireLabel whether every line must carry a label (training/eval) or not (predict) */
    public static List<Example> read(Path file, boolean requireLabel) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (IOException e) {
                    throw new IOException(file + " line " + no + ": not a JSON object (" + e.getMessage().split("\n")[0] + ")");
                }
                if (n == null || !n.isObject()) {
                    throw new IOException(file + " line " + no + ": not a JSON object");
                }
                JsonNode text = n.get("text");
                if (text == null || !text.isTextual()) {
                    throw new IOException(file + " line " + no + ": field \"text\" missing or not a string");
                }
                JsonNode label = n.get("label");
                if (requireLabel && (label == null || label.isNull() || label.isContainerNode())) {
                    throw new IOException(file + " line " + no + ": field \"label\" missing");
                }
                JsonNode pair = n.get("text_pair");
                out.add(new Example(text.asText(), pair == null || pair.isNull() ? null : pair.asText(),
                        label == null || label.isNull() ? null : label.asText()));
            }
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no examples");
        }
        return out;
    }
}
