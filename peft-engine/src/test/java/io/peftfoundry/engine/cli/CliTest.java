package io.peftfoundry.engine.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI end to end on a tiny model directory and toy JSONL files. */
class CliTest {

    @TempDir
    Path dir;

    private Path model;
    private final ObjectMapper json = new ObjectMapper();

    private record Run(int code, String out, String err) {}

    private Run cli(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Run(Main.run(args), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @BeforeEach
    void tinyModelAndData() throws Exception {
        model = dir.resolve("model");
        try (NDManager m = NDManager.newBaseManager()) {
            BertCheckpoint.save(TestModels.tiny(m, 1), model);
        }
        TestModels.writeTokenizer(model);
        writeJsonl(dir.resolve("train.jsonl"), TestModels.toyTask(48, 1));
        writeJsonl(dir.resolve("valid.jsonl"), TestModels.toyTask(16, 2));
    }

    private void writeJsonl(Path f, java.util.List<io.peftfoundry.engine.task.classification.Example> ex) throws Exception {
        Files.writeString(f, ex.stream().map(e -> {
            var n = json.createObjectNode();
            n.put("text", e.text());
            n.put("label", e.label());
            return n.toString();
        }).collect(Collectors.joining("\n")) + "\n");
    }

    private Path spec(String method, String extra) throws Exception {
        Path s = dir.resolve("spec-" + method + ".json");
        Files.writeString(s, "{\"model\": \"" + model + "\", \"training_file\": \"" + dir.resolve("train.jsonl")
                + "\", \"validation_file\": \"" + dir.resolve("valid.jsonl") + "\", \"method\": " + method
                + ", \"hyperparameters\": {\"epochs\": 2, \"batch_size\": 8, \"learning_rate\": 0.01"
                + (extra.contains("max_seq_length") ? "" : ", \"max_seq_length\": 32") + extra + "}, \"seed\": 7}");
        return s;
    }

    @Test
    void trainWritesAdapterAndMetricsThenEvalPredictMergeUseThem() throws Exception {
        Path out = dir.resolve("run");
        Run r = cli("train", "--spec", spec("{\"type\": \"lora\", \"lora\": {\"r\": 4, \"alpha\": 8}}", "").toString(),
                "--out", out.toString(), "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_config.json")));
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("adapter/labels.json")));
        // 48 / 8 = 6 steps per epoch, a checkpoint at each epoch end (6, 12); the newest two are kept
        assertTrue(Files.isDirectory(out.resolve("checkpoints/checkpoint-12")));
        assertTrue(Files.isDirectory(out.resolve("checkpoints/checkpoint-6")));
        JsonNode m = json.readTree(out.resolve("metrics.json").toFile());
        for (String f : new String[] {"trainable_parameters", "total_parameters", "train_seconds", "tokens_per_second",
                "peak_rss_bytes"}) {
            assertTrue(m.get(f).asDouble() > 0, f + " in " + m);
        }
        // LoRA r=4 on query+value of 2 layers (2·2·(4·16+16·4)) + head (2·16+2)
        assertEquals(2 * 2 * (4 * 16 + 16 * 4) + 2 * 16 + 2, m.get("trainable_parameters").asLong());
        assertTrue(m.get("eval").has("accuracy") && m.get("eval").has("macro_f1") && m.get("eval").has("loss"));

        Run e = cli("eval", "--model", model.toString(), "--adapter", out.resolve("adapter").toString(), "--data",
                dir.resolve("valid.jsonl").toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(m.get("eval").get("accuracy").asDouble(), json.readTree(e.out()).get("accuracy").asDouble(), 1e-9);

        Run p = cli("predict", "--model", model.toString(), "--adapter", out.resolve("adapter").toString(), "--text",
                "the movie was great");
        assertEquals(0, p.code(), p.err());
        JsonNode pred = json.readTree(p.out());
        assertTrue(pred.get("label").asText().matches("pos|neg"));
        assertEquals(1.0, pred.get("scores").get("pos").asDouble() + pred.get("scores").get("neg").asDouble(), 1e-5);

        Path merged = dir.resolve("merged");
        Run mg = cli("merge", "--model", model.toString(), "--adapter", out.resolve("adapter").toString(), "--out",
                merged.toString());
        assertEquals(0, mg.code(), mg.err());
        Run e2 = cli("eval", "--model", merged.toString(), "--data", dir.resolve("valid.jsonl").toString());
        assertEquals(0, e2.code(), e2.err());
        assertEquals(json.readTree(e.out()).get("loss").asDouble(), json.readTree(e2.out()).get("loss").asDouble(), 1e-5);
    }

    @Test
    void badSpecIsRejectedBeforeAnyWorkNamingTheField() throws Exception {
        Path out = dir.resolve("bad");
        Run r = cli("train", "--spec", spec("{\"type\": \"lora\", \"lora\": {\"r\": 0}}", "").toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("method.lora.r"), r.err());
        assertFalse(Files.exists(out));

        r = cli("train", "--spec", spec("{\"type\": \"lora\"}", ", \"max_seq_length\": 4096").toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("hyperparameters.max_seq_length"), r.err());

        Files.writeString(dir.resolve("valid.jsonl"), "{\"text\": \"x\", \"label\": \"maybe\"}\n");
        r = cli("train", "--spec", spec("{\"type\": \"lora\"}", "").toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("validation_file") && r.err().contains("maybe"), r.err());

        Files.writeString(dir.resolve("train.jsonl"), "{\"text\": \"x\"}\n");
        r = cli("train", "--spec", spec("{\"type\": \"lora\"}", "").toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("training_file") && r.err().contains("line 1"), r.err());
        assertFalse(Files.exists(out));
    }
}
