package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.DType;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.training.TrainingListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@link Fp16PrecisionTest} and {@link Bf16PrecisionTest} share: the periodic training text, the causal LoRA spec
 * on the tiny Qwen2 at a precision, logits of a loaded decoder, and the classification LoRA check at a precision.
 */
final class PrecisionFixtures {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PrecisionFixtures() {}

    /** The committed tiny Qwen2 (a bf16 checkpoint written by transformers) and its tokenizer, copied to {@code dir/qwen2}. */
    static Path copyTinyQwen2(Path dir) throws Exception {
        Path f = CausalTrainingJobTest.fixture();
        Path model = Files.createDirectories(dir.resolve("qwen2"));
        for (String name : new String[] {"config.json", "generation_config.json", "model.safetensors"}) {
            Files.copy(f.resolve("qwen2-tiny").resolve(name), model.resolve(name));
        }
        Files.copy(f.resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        return model;
    }

    /** {@code dir/domain.txt}: a periodic text, so after a few tokens every next token is determined. */
    static void writeDomainText(Path dir) throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            text.append("the cat sat on the mat. ");
            if (i % 10 == 9) {
                text.append("\n\n");
            }
        }
        Files.writeString(dir.resolve("domain.txt"), text.toString());
    }

    /** Continued pretraining of {@code model} on {@code dir/domain.txt}: LoRA r 4 on every projection, seed 7. */
    static ObjectNode causalLoraSpec(Path model, Path dir, String precision, int maxSteps) {
        ObjectNode s = JSON.createObjectNode();
        s.put("model", model.toString());
        s.put("task", "continued_pretraining");
        s.put("training_file", dir.resolve("domain.txt").toString());
        ObjectNode m = s.putObject("method");
        m.put("type", "lora");
        m.putObject("lora").put("r", 4).put("alpha", 8).put("dropout", 0.0).putArray("target_modules")
                .add("q_proj").add("k_proj").add("v_proj").add("o_proj").add("gate_proj").add("up_proj").add("down_proj");
        s.putObject("hyperparameters").put("batch_size", 4).put("learning_rate", 3e-2).put("max_seq_length", 32)
                .put("epochs", 50).put("max_steps", maxSteps).put("warmup_ratio", 0.0).put("eval_every_steps", 0)
                .put("checkpoint_every_steps", 0).put("precision", precision);
        s.put("seed", 7);
        return s;
    }

    static CausalTrainingJob causalJob(ObjectNode spec) throws Exception {
        return (CausalTrainingJob) TrainingJob.fromSpecJson(JSON.writeValueAsString(spec), null, null);
    }

    /** The mean of the last 5 losses. */
    static double tail(List<Double> losses) {
        return losses.subList(losses.size() - 5, losses.size()).stream().mapToDouble(Double::doubleValue).average()
                .orElseThrow();
    }

    /** The decoder's logits for {@code ids}, every position attended. */
    static NDArray logits(CausalDecoder d, long[][] ids, NDManager m) {
        long[][] mask = new long[ids.length][ids[0].length];
        for (long[] row : mask) {
            Arrays.fill(row, 1);
        }
        return ((ai.djl.nn.Block) d).forward(new ParameterStore(m, false),
                new NDList(CausalBatch.create(m, ids), CausalBatch.create(m, mask)), false).head();
    }

    /**
     * LoRA on query/value of the tiny BERT held at {@code precision}, the head trained in float32: LoRA's B starts at 0
     * and moves only if the gradient flows back through the reduced-precision products, so a non-zero B in the saved
     * adapter shows the path is intact; every saved tensor is float32 and the run records its precision.
     */
    static void assertClassificationLoraMovesLorasBAndSavesFloat32(Path dir, String precision) throws Exception {
        Path bert = dir.resolve("bert");
        try (NDManager m = NDManager.newBaseManager()) {
            BertCheckpoint.save(TestModels.tiny(m, 1), bert);
        }
        TestModels.writeTokenizer(bert);
        StringBuilder train = new StringBuilder();
        for (var e : TestModels.toyTask(48, 1)) {
            train.append(JSON.writeValueAsString(Map.of("text", e.text(), "label", e.label()))).append('\n');
        }
        Files.writeString(dir.resolve("train.jsonl"), train.toString());
        ObjectNode s = JSON.createObjectNode();
        s.put("model", bert.toString());
        s.put("training_file", dir.resolve("train.jsonl").toString());
        s.putObject("method").put("type", "lora");
        s.putObject("hyperparameters").put("epochs", 2).put("batch_size", 8).put("learning_rate", 0.01)
                .put("max_seq_length", 32).put("precision", precision);
        s.put("seed", 7);
        var out = TrainingJob.fromSpecJson(JSON.writeValueAsString(s), null, null)
                .run(dir.resolve("cls"), null, TrainingListener.NONE, Device.cpu());
        assertEquals(precision, out.metrics().get("precision").asText());
        Map<String, Tensor> saved = SafeTensors.read(out.adapterDir().resolve("adapter_model.safetensors"));
        int bs = 0;
        for (Map.Entry<String, Tensor> e : saved.entrySet()) {
            assertEquals(DType.F32, e.getValue().dtype(), e.getKey());
            if (e.getKey().contains("lora_B")) {
                bs++;
                float max = 0;
                for (float x : e.getValue().toFloats()) {
                    max = Math.max(max, Math.abs(x));
                }
                assertTrue(max > 0, e.getKey() + " stayed at its initial zeros");
            }
        }
        assertEquals(2 * 2, bs); // 2 layers × query, value
    }
}
