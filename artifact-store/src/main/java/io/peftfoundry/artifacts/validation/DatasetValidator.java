package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.engine.task.causal.CausalData;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Checks a dataset line by line, streaming (one line in memory at a time):
 * every non-blank JSONL line parses to an object whose required fields are non-empty strings
 * ({@code text}/{@code label}, {@code prompt}/{@code completion}, {@code text}); an sft line may instead be an OpenAI
 * chat conversation {@code {"messages": [{"role", "content"}, …]}}, checked by peft-engine's
 * {@link CausalData#checkMessages} (roles system/user/assistant, string contents, at most
 * {@value CausalData#MAX_MESSAGES} messages, an assistant answer with content); classification needs at
 * least two distinct labels. A UTF-8 BOM, CRLF line ends and blank lines are tolerated.
 * {@code continued_pretraining} also accepts plain text (first non-blank line not starting with '{').
 * Without a declared task, the task is inferred from the first valid line's fields.
 */
public class DatasetValidator {

    /** A line longer than this is refused rather than held in memory. */
    public static final int MAX_LINE_CHARS = 8 * 1024 * 1024;
    /** More distinct labels than this is not a classification dataset we can train. */
    public static final int MAX_LABELS = 10_000;
    /** A label is a class name: longer than this is a fault (labels are kept in memory and in the file's annotations). */
    public static final int MAX_LABEL_CHARS = 256;

    private final ObjectMapper mapper;
    private final int maxReportedErrors;

    public DatasetValidator(ObjectMapper mapper, int maxReportedErrors) {
        this.mapper = mapper;
        this.maxReportedErrors = maxReportedErrors;
    }

    public DatasetReport validate(InputStream in, DatasetTask declared) throws IOException {
        State s = new State(declared);
        Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
        LineReader lines = new LineReader(reader);
        long lineNo = 0;
        try {
            String line;
            while ((line = lines.next()) != null) {
                lineNo++;
                if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
                if (line == LineReader.TOO_LONG) {
                    s.error(lineNo, null, "line longer than " + MAX_LINE_CHARS + " characters");
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                s.line(lineNo, line);
            }
        } catch (CharacterCodingException e) {
            s.error(lineNo + 1, null, "not valid UTF-8 text");
        }
        return s.finish();
    }

    private final class State {
        final List<FieldError> errors = new ArrayList<>();
        final TreeSet<String> labels = new TreeSet<>();
        long totalErrors;
        long examples;
        long chatExamples;
        DatasetTask task;
        Boolean plainText;
        boolean tooManyLabels;

        State(DatasetTask declared) {
            this.task = declared;
        }

        void line(long lineNo, String line) {
            if (plainText == null) {
                boolean looksJson = line.stripLeading().startsWith("{");
                plainText = !looksJson && (task == null || task == DatasetTask.CONTINUED_PRETRAINING);
                if (plainText) {
                    task = DatasetTask.CONTINUED_PRETRAINING;
                }
            }
            if (plainText) {
                examples++;
                return;
            }
            JsonNode node;
            try {
                node = mapper.readTree(line);
            } catch (JsonProcessingException e) {
                error(lineNo, null, "invalid JSON: " + e.getOriginalMessage());
                return;
            }
            if (node == null || !node.isObject()) {
                error(lineNo, null, "expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
                return;
            }
            if (node.has("messages")) {
                chat(lineNo, node);
                return;
            }
            if (task == null) {
                task = infer(node);
                if (task == null) {
                    error(lineNo, null, "cannot infer the task: expected fields text+label (classification), "
                            + "prompt+completion or messages (sft) or text (continued_pretraining); or pass 'task'");
                    return;
                }
            }
            boolean ok = true;
            for (String field : task.requiredFields()) {
                JsonNode v = node.get(field);
                String problem = fieldProblem(field, v);
                if (problem != null) {
                    error(lineNo, field, problem);
                    ok = false;
                }
            }
            if (task == DatasetTask.CLASSIFICATION && node.has("text_pair") && !node.get("text_pair").isTextual()) {
                error(lineNo, "text_pair", "must be a string when present");
                ok = false;
            }
            if (!ok) {
                return;
            }
            if (task == DatasetTask.CLASSIFICATION && node.get("label").asText().length() > MAX_LABEL_CHARS) {
                error(lineNo, "label", "longer than " + MAX_LABEL_CHARS + " characters ("
                        + node.get("label").asText().length() + "): a label names a class");
                return;
            }
            examples++;
            if (task == DatasetTask.CLASSIFICATION) {
                if (labels.size() < MAX_LABELS) {
                    labels.add(node.get("label").asText());
                } else if (!labels.contains(node.get("label").asText()) && !tooManyLabels) {
                    tooManyLabels = true;
                    error(lineNo, "label", "more than " + MAX_LABELS + " distinct labels");
                }
            }
        }

        void chat(long lineNo, JsonNode node) {
            if (task == null) {
                task = DatasetTask.SFT;
            }
            if (task != DatasetTask.SFT) {
                error(lineNo, "messages", "a chat conversation is sft data, but this is a " + task.wireName() + " dataset");
                return;
            }
            String problem = CausalData.checkMessages(node.get("messages"));
            if (problem != null) {
                error(lineNo, "messages", problem);
                return;
            }
            examples++;
            chatExamples++;
        }

        String fieldProblem(String field, JsonNode v) {
            if (v == null || v.isNull()) {
                return "missing";
            }
            // class ids written as integers are common in classification data; accept them as labels
            if ("label".equals(field) && v.isIntegralNumber()) {
                return null;
            }
            if (!v.isTextual()) {
                return "must be a string, got " + v.getNodeType().name().toLowerCase();
            }
            if (v.asText().isBlank()) {
                return "empty";
            }
            return null;
        }

        DatasetTask infer(JsonNode node) {
            if (node.has("prompt") && node.has("completion")) {
                return DatasetTask.SFT;
            }
            if (node.has("label")) {
                return DatasetTask.CLASSIFICATION;
            }
            if (node.has("text")) {
                return DatasetTask.CONTINUED_PRETRAINING;
            }
            return null;
        }

        DatasetReport finish() {
            if (examples == 0 && totalErrors == 0) {
                error(null, null, "the file holds no examples");
            }
            if (task == DatasetTask.CLASSIFICATION && totalErrors == 0 && labels.size() < 2) {
                error(null, "label", "classification needs at least 2 distinct labels, found "
                        + labels.size() + (labels.isEmpty() ? "" : " (" + String.join(", ", labels) + ")"));
            }
            return new DatasetReport(task, Boolean.TRUE.equals(plainText), examples,
                    task == DatasetTask.CLASSIFICATION ? List.copyOf(labels) : null, List.copyOf(errors), totalErrors, chatExamples);
        }

        void error(Long line, String field, String message) {
            totalErrors++;
            if (errors.size() < maxReportedErrors) {
                errors.add(new FieldError(field == null ? "" : field, message, line));
            }
        }
    }

    /** Reads lines ending in \n, \r\n or \r, refusing to buffer a line beyond {@link #MAX_LINE_CHARS}. */
    static final class LineReader {
        static final String TOO_LONG = new String("<too long>");
        private final Reader in;
        private final char[] buf = new char[64 * 1024];
        private int pos;
        private int len;
        private boolean eof;

        LineReader(Reader in) {
            this.in = in;
        }

        private int read() throws IOException {
            if (pos == len) {
                if (eof) {
                    return -1;
                }
                len = in.read(buf, 0, buf.length);
                pos = 0;
                if (len <= 0) {
                    eof = true;
                    len = 0;
                    return -1;
                }
            }
            return buf[pos++];
        }

        private int peek() throws IOException {
            int c = read();
            if (c >= 0) {
                pos--;
            }
            return c;
        }

        String next() throws IOException {
            StringBuilder sb = new StringBuilder();
            boolean tooLong = false;
            int c = read();
            if (c < 0) {
                return null;
            }
            while (c >= 0 && c != '\n' && c != '\r') {
                if (sb.length() < MAX_LINE_CHARS) {
                    sb.append((char) c);
                } else {
                    tooLong = true;
                }
                c = read();
            }
            if (c == '\r' && peek() == '\n') {
                read();
            }
            return tooLong ? TOO_LONG : sb.toString();
        }
    }
}
