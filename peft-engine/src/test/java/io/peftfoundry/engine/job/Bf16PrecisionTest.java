package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.SpecValidationException;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.io.DType;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.SafeTensorsFile;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.TorchOps;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.training.TrainingListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code precision: bf16} on the committed tiny Qwen2 (a bf16 checkpoint written by transformers: 2 layers, hidden 32,
 * q/k/v biases, tied embeddings): the matrices held as the stored bf16 values, how far the logits move, and that LoRA
 * trains on it with the gradient flowing back through the bf16 products.
 */
class Bf16PrecisionTest {

    /** bfloat16's unit roundoff (8 significant bits). */
    static final double U_BF16 = Math.pow(2, -8);
    /**
     * Roundings to bf16 on the longest path to a logit, counted as in {@link Fp16PrecisionTest#ROUNDINGS} (18), plus
     * one per layer: at bf16 the MLP runs in bf16 end to end, so SiLU's output is rounded too. 18 + 2 = 20.
     */
    static final int ROUNDINGS = Fp16PrecisionTest.ROUNDINGS + 2;

    @TempDir
    Path dir;

    private Path model;

    @BeforeEach
    void model() throws Exception {
        model = PrecisionFixtures.copyTinyQwen2(dir);
    }

    /** bf16 → float32 is exact, so the bf16-held matrices widened back must equal the float32 load bit for bit. */
    @Test
    void bf16HoldsLinearAndEmbeddingWeightsAsTheStoredBf16ValuesAndNormsAndBiasesAsFloat32() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                SafeTensorsFile file = SafeTensorsFile.open(model.resolve("model.safetensors"))) {
            assertEquals(DType.BF16, file.entry("model.layers.0.self_attn.q_proj.weight").dtype());
            Map<String, Parameter> half = LlamaCheckpoint.load(model, m, DataType.BFLOAT16).namedParameters();
            Map<String, Parameter> full = LlamaCheckpoint.load(model, m, DataType.FLOAT32).namedParameters();
            int matrices = 0;
            for (Map.Entry<String, Parameter> e : half.entrySet()) {
                NDArray a = e.getValue().getArray();
                boolean matrix = e.getKey().endsWith("_proj.weight") || e.getKey().equals("model.embed_tokens.weight");
                assertEquals(matrix, TorchOps.isBf16(a), e.getKey());
                if (!matrix) {
                    assertEquals(DataType.FLOAT32, a.getDataType(), e.getKey());
                }
                matrices += matrix ? 1 : 0;
                NDArray widened = matrix ? TorchOps.toFloat32(a) : a;
                assertEquals(0.0, TestModels.maxAbsDiff(widened, full.get(e.getKey()).getArray()), e.getKey());
            }
            assertEquals(1 + 2 * 7, matrices); // the embedding (tied head) and 7 projections in each of 2 layers
        }
    }

    /**
     * A float32 checkpoint cannot be mapped as bf16: it is streamed and rounded. Written from the bf16 fixture's
     * values, rounding gives them back exactly, so its logits equal those of the memory-mapped bf16 load.
     */
    @Test
    void aFloat32CheckpointAtBf16IsRoundedAndGivesTheLogitsOfTheMappedBf16One() throws Exception {
        Path f32 = Files.createDirectories(dir.resolve("qwen2-f32"));
        Files.copy(model.resolve("config.json"), f32.resolve("config.json"));
        Map<String, Tensor> widened = new LinkedHashMap<>();
        SafeTensors.read(model.resolve("model.safetensors")).forEach((k, t) -> widened.put(k,
                Tensor.ofFloats(t.shape(), t.toFloats())));
        SafeTensors.write(f32.resolve("model.safetensors"), widened);
        long[][] ids = {{5, 60, 61, 62, 63, 7, 8, 9}};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray mapped = logits(DecoderFiles.load(model, m, DataType.BFLOAT16), ids, m);
            NDArray rounded = logits(DecoderFiles.load(f32, m, DataType.BFLOAT16), ids, m);
            assertEquals(0.0, TestModels.maxAbsDiff(mapped, rounded));
        }
    }

    /**
     * The fixture split into two shards with an index (as {@code save_pretrained(max_shard_size=…)} writes it): each
     * shard is mapped once and the tensors are views into both, so the logits equal the single file's exactly.
     */
    @Test
    void aShardedBf16CheckpointGivesTheLogitsOfTheSingleFile() throws Exception {
        Path sharded = Files.createDirectories(dir.resolve("qwen2-sharded"));
        Files.copy(model.resolve("config.json"), sharded.resolve("config.json"));
        Map<String, Tensor> all = SafeTensors.read(model.resolve("model.safetensors"));
        Map<String, Tensor> first = new LinkedHashMap<>();
        Map<String, Tensor> second = new LinkedHashMap<>();
        StringBuilder weightMap = new StringBuilder();
        all.forEach((k, t) -> {
            boolean inFirst = !k.startsWith("model.layers.1.");
            (inFirst ? first : second).put(k, t);
            weightMap.append(weightMap.isEmpty() ? "" : ",").append('"').append(k).append("\":\"model-0000")
                    .append(inFirst ? 1 : 2).append("-of-00002.safetensors\"");
        });
        assertTrue(!first.isEmpty() && !second.isEmpty());
        SafeTensors.write(sharded.resolve("model-00001-of-00002.safetensors"), first);
        SafeTensors.write(sharded.resolve("model-00002-of-00002.safetensors"), second);
        Files.writeString(sharded.resolve("model.safetensors.index.json"),
                "{\"metadata\": {}, \"weight_map\": {" + weightMap + "}}");
        long[][] ids = {{5, 60, 61, 62, 63, 7, 8, 9}};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray single = logits(DecoderFiles.load(model, m, DataType.BFLOAT16), ids, m);
            NDArray split = logits(DecoderFiles.load(sharded, m, DataType.BFLOAT16), ids, m);
            assertEquals(0.0, TestModels.maxAbsDiff(single, split));
        }
    }

    /**
     * The bf16 model's logits stay within {@value #ROUNDINGS} bf16 roundings of the float32 model's:
     * |Δ| ≤ 20 · 2^-8 · max |logit|; they must differ at all, or nothing ran in bf16.
     */
    @Test
    void bf16LogitsStayWithinTheRoundingBoundOfFp32() throws Exception {
        long[][] ids = {{5, 60, 61, 62, 63, 7, 8, 9}, {100, 200, 300, 1, 2, 3, 4, 0}};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray full = logits(DecoderFiles.load(model, m, DataType.FLOAT32), ids, m);
            NDArray half = logits(DecoderFiles.load(model, m, DataType.BFLOAT16), ids, m);
            assertEquals(DataType.FLOAT32, half.getDataType());
            double scale = full.abs().max().getFloat();
            double diff = TestModels.maxAbsDiff(full, half);
            double bound = ROUNDINGS * U_BF16 * scale;
            assertTrue(diff > 0 && diff <= bound, "max |Δlogit| " + diff + ", bound " + bound + " (max |logit| " + scale + ")");
        }
    }

    @Test
    void fullFineTuneWithBf16IsRefusedNamingTheField() {
        ObjectNode s = spec("bf16", 5);
        s.with("method").removeAll().put("type", "full");
        var e = assertThrows(SpecValidationException.class, () -> job(s));
        assertTrue(e.getMessage().contains("hyperparameters.precision"), e.getMessage());
    }

    /**
     * LoRA on all seven projections, 30 steps of continued pretraining on a periodic text, fp32 and bf16 from the same
     * seed (as {@link Fp16PrecisionTest}): both lower the loss by more than 10 %; bf16's first loss differs from
     * fp32's only through the logits' rounding (≤ 2 · 20 · 2^-8 · ~7 ≈ 1.1 nat on ~7.7 in the worst case: asked within
     * 15 %), its last losses stay within 10 % of fp32's plus 0.05 nats. No loss scaling at bf16 (scale 1). The adapter
     * is float32 and loads onto the float32 model.
     */
    @Test
    void loraTrainsOnTheBf16BackboneLikeOnFp32AndWritesAFloat32Adapter() throws Exception {
        var fp32 = job(spec("fp32", 30)).run(dir.resolve("fp32"), null, TrainingListener.NONE, Device.cpu());
        var bf16 = job(spec("bf16", 30)).run(dir.resolve("bf16"), null, TrainingListener.NONE, Device.cpu());
        List<Double> a = fp32.training().losses();
        List<Double> b = bf16.training().losses();
        double end32 = tail(a);
        double endBf = tail(b);
        assertTrue(end32 < 0.9 * a.get(0), "fp32 loss " + a.get(0) + " → " + end32);
        assertTrue(endBf < 0.9 * b.get(0), "bf16 loss " + b.get(0) + " → " + endBf);
        assertTrue(Math.abs(a.get(0) - b.get(0)) < 0.15 * a.get(0), "first losses " + a.get(0) + " / " + b.get(0));
        assertTrue(Math.abs(endBf - end32) < 0.1 * end32 + 0.05, "last losses " + end32 + " / " + endBf);
        JsonNode metrics = bf16.metrics();
        assertEquals("bf16", metrics.get("precision").asText());
        assertEquals(1.0, metrics.get("loss_scale").asDouble());

        try (SafeTensorsFile f = SafeTensorsFile.open(bf16.adapterDir().resolve("adapter_model.safetensors"))) {
            assertEquals(2 * 7 * 2, f.entries().size(), "tensors: " + f.entries().keySet());
            f.entries().values().forEach(e -> assertEquals(DType.F32, e.dtype(), e.name()));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            CausalModel onFp32 = CausalAdapterFiles.load(bf16.adapterDir(), DecoderFiles.load(model, m), m);
            long[][] ids = {{5, 60, 61, 62, 63, 7}};
            long[][] mask = {{1, 1, 1, 1, 1, 1}};
            NDArray withAdapter = onFp32.logits(new NDList(CausalBatch.create(m, ids), CausalBatch.create(m, mask)), false);
            NDArray base = logits(DecoderFiles.load(model, m), ids, m);
            assertTrue(TestModels.maxAbsDiff(withAdapter, base) > 1e-3, "the trained adapter changes the logits");
        }
    }

    /**
     * Gradient checkpointing at bf16 recomputes each layer (bf16 products and SDPA through TorchOps included) in the
     * backward pass: the same computation in the same order, so 8 steps give the losses of the run without it.
     */
    @Test
    void gradientCheckpointingAtBf16GivesTheLossesOfTheRunWithoutIt() throws Exception {
        ObjectNode plain = spec("bf16", 8);
        ObjectNode recomputed = spec("bf16", 8);
        recomputed.with("hyperparameters").put("gradient_checkpointing", true);
        List<Double> a = job(plain).run(dir.resolve("plain"), null, TrainingListener.NONE, Device.cpu()).training().losses();
        List<Double> b = job(recomputed).run(dir.resolve("ckpt"), null, TrainingListener.NONE, Device.cpu()).training().losses();
        assertEquals(8, b.size());
        for (int i = 0; i < a.size(); i++) {
            // same ops on the same values; 1e-5 relative allows a different summation order in a kernel
            assertEquals(a.get(i), b.get(i), 1e-5 * a.get(i), "step " + (i + 1));
        }
        assertTrue(a.get(7) < a.get(0), "trained: " + a);
    }

    /**
     * The classification path at bf16: the tiny BERT (a float32 checkpoint, so streamed and rounded to bf16) held with
     * bf16 matrices (embeddings included), LoRA on query/value and the head trained in float32. LoRA's B starts at 0
     * and moves only if the gradient flows back through the bf16 products; every saved tensor is float32.
     */
    @Test
    void classificationLoraOnABf16EncoderMovesLorasBAndSavesFloat32() throws Exception {
        PrecisionFixtures.assertClassificationLoraMovesLorasBAndSavesFloat32(dir, "bf16");
    }

    private static double tail(List<Double> losses) {
        return PrecisionFixtures.tail(losses);
    }

    private static NDArray logits(CausalDecoder d, long[][] ids, NDManager m) {
        return PrecisionFixtures.logits(d, ids, m);
    }

    private ObjectNode spec(String precision, int maxSteps) {
        return PrecisionFixtures.causalLoraSpec(model, dir, precision, maxSteps);
    }

    @BeforeEach
    void data() throws Exception {
        PrecisionFixtures.writeDomainText(dir);
    }

    private CausalTrainingJob job(ObjectNode spec) throws Exception {
        return PrecisionFixtures.causalJob(spec);
    }
}
