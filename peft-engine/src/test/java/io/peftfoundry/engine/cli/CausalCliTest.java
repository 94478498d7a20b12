package io.peftfoundry.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train / eval / predict / merge on the committed tiny GPT-2 through {@link Main#run}. */
class CausalCliTest {

    @TempDir
    Path dir;

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

    private Path model() throws Exception {
        Path f = Path.of(getClass().getResource("/decoders/tokenizer.json").toURI()).getParent();
        Path m = Files.createDirectories(dir.resolve("model"));
        Files.copy(f.resolve("gpt2-tiny/config.json"), m.resolve("config.json"));
        Files.copy(f.resolve("gpt2-tiny/model.safetensors"), m.resolve("model.safetensors"));
        Files.copy(f.resolve("tokenizer.json"), m.resolve("tokenizer.json"));
        return m;
    }

    private Path spec(Path model, String task, String train, String valid, String extra) throws Exception {
        ObjectNode s = json.createObjectNode();
        s.put("model", model.toString()).put("task", task).put("training_file", train);
        if (valid != null) {
            s.put("validation_file", valid);
        }
        s.putObject("method").put("type", "lora");
        s.putObject("hyperparameters").put("max_seq_length", 32).put("batch_size", 4).put("max_steps", 3).put("learning_rate", 1e-2);
        if (extra != null) {
            s.put("init_adapter", extra);
        }
        Path p = dir.resolve(task + "-spec.json");
        Files.writeString(p, json.writeValueAsString(s));
        return p;
    }

    @Test
    void twoStageRecipeEvalPredictAndMerge() throws Exception {
        Path model = model();
        Files.writeString(dir.resolve("domain.txt"), "the licence grants rights.\n\nthe licensor grants a licence.\n\n".repeat(6));
        Files.writeString(dir.resolve("sft.jsonl"), "{\"prompt\": \"term: GPL\\n\", \"completion\": \"a licence\"}\n".repeat(8));
        Run stage1 = cli("train", "--spec", spec(model, "continued_pretraining", dir.resolve("domain.txt").toString(),
                dir.resolve("domain.txt").toString(), null).toString(), "--out", dir.resolve("s1").toString());
        assertEquals(0, stage1.code(), stage1.err());
        JsonNode m1 = json.readTree(dir.resolve("s1/metrics.json").toFile());
        assertTrue(m1.get("eval").get("perplexity").asDouble() > 1, m1.toString());
        Run stage2 = cli("train", "--spec", spec(model, "sft", dir.resolve("sft.jsonl").toString(), dir.resolve("sft.jsonl").toString(),
                dir.resolve("s1/adapter").toString()).toString(), "--out", dir.resolve("s2").toString());
        assertEquals(0, stage2.code(), stage2.err());
        JsonNode m2 = json.readTree(dir.resolve("s2/metrics.json").toFile());
        assertEquals(2, m2.get("lineage").size());
        assertTrue(m2.get("eval").has("exact_match"));

        Run eval = cli("eval", "--model", model.toString(), "--adapter", dir.resolve("s2/adapter").toString(), "--data",
                dir.resolve("sft.jsonl").toString());
        assertEquals(0, eval.code(), eval.err());
        JsonNode e = json.readTree(eval.out());
        assertEquals("sft", e.get("task").asText());
        // the CLI's evaluation of the saved adapter is the job's final evaluation of the same data
        assertEquals(m2.get("eval").get("loss").asDouble(), e.get("loss").asDouble(), 1e-6);

        Run predict = cli("predict", "--model", model.toString(), "--adapter", dir.resolve("s2/adapter").toString(),
                "--prompt", "term: GPL\n", "--max-new-tokens", "5", "--temperature", "0.8", "--top-p", "0.9", "--seed", "3");
        assertEquals(0, predict.code(), predict.err());
        JsonNode p = json.readTree(predict.out());
        assertTrue(p.get("new_tokens").asInt() <= 5);
        assertTrue(p.has("finish_reason"));

        Run merged = cli("merge", "--model", model.toString(), "--adapter", dir.resolve("s2/adapter").toString(), "--out",
                dir.resolve("merged").toString());
        assertEquals(0, merged.code(), merged.err());
        Run evalMerged = cli("eval", "--model", dir.resolve("merged").toString(), "--data", dir.resolve("sft.jsonl").toString());
        assertEquals(0, evalMerged.code(), evalMerged.err());
        // merging folds s·BA into the Conv1D weights: the same function up to float rounding
        assertEquals(e.get("loss").asDouble(), json.readTree(evalMerged.out()).get("loss").asDouble(), 1e-4);
    }

    @Test
    void aSpecWhoseFileDoesNotFitTheTaskIsRejectedWithExitCode2() throws Exception {
        Path model = model();
        Files.writeString(dir.resolve("domain.txt"), "plain text, not JSON Lines\n");
        Run r = cli("train", "--spec", spec(model, "sft", dir.resolve("domain.txt").toString(), null, null).toString(), "--out",
                dir.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("training_file"), r.err());
        assertTrue(!Files.exists(dir.resolve("x")));
    }
}
