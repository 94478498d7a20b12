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
import io.peftfoundry.engine.model.HfModule;
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
 * {@code precision: fp16} on the committed tiny Qwen2 (a bf16 checkpoint written by transformers: 2 layers, hidden 32,
 * q/k/v biases, tied embeddings): what is held in float16, how far its logits move, and that LoRA trains on it.
 */
class Fp16PrecisionTest {

    /** float16's unit roundoff: one rounding to float16 moves a normal value by at most this fraction of it. */
    static final double U16 = Math.pow(2, -11);
    /**
     * Roundings to float16 on the longest path to a logit of the 2-layer model: each float16 product rounds its input
     * and its output (2); a layer chains q/k/v → o and gate/up → down (4 + 4); the tied head adds 2. 2·8 + 2 = 18.
     */
    static final int ROUNDINGS = 18;

    @TempDir
    Path dir;

    private Path model;

    @BeforeEach
    void model() throws Exception {
        model = PrecisionFixtures.copyTinyQwen2(dir);
    }

    @Test
    void fp16HoldsLinearAndEmbeddingWeightsAsFloat16WithTheBf16ValuesAndNormsAndBiasesAsFloat32() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                SafeTensorsFile file = SafeTensorsFile.open(model.resolve("model.safetensors"))) {
            assertEquals(DType.BF16, file.entry("model.layers.0.self_attn.q_proj.weight").dtype());
            Map<String, Parameter> half = LlamaCheckpoint.load(model, m, DataType.FLOAT16).namedParameters();
            Map<String, Parameter> full = LlamaCheckpoint.load(model, m, DataType.FLOAT32).namedParameters();
            int matrices = 0;
            for (Map.Entry<String, Parameter> e : half.entrySet()) {
                NDArray a = e.getValue().getArray();
                boolean matrix = e.getKey().endsWith("_proj.weight") || e.getKey().equals("model.embed_tokens.weight");
                assertEquals(matrix ? DataType.FLOAT16 : DataType.FLOAT32, a.getDataType(), e.getKey());
                matrices += matrix ? 1 : 0;
                // bf16 → fp16 is exact in fp16's normal range; below 2^-14 fp16 spaces its subnormals 2^-24 apart, so
                // rounding there moves a value by at most half of that
                double diff = TestModels.maxAbsDiff(a.toType(DataType.FLOAT32, false), full.get(e.getKey()).getArray());
                assertTrue(diff <= Math.pow(2, -25), e.getKey() + ": " + diff);
            }
            assertEquals(1 + 2 * 7, matrices); // the embedding (tied head) and 7 projections in each of 2 layers
        }
    }

    /**
     * The float16 model's logits stay within {@value #ROUNDINGS} float16 roundings of the float32 model's (each
     * moves a value by at most {@link #U16} of it; RMSNorm rescales every layer's input to unit size, so the
     * relative errors add along the path): |Δ| ≤ 18 · 2^-11 · max |logit|. They must differ at all, or nothing
     * ran in float16.
     */
    @Test
    void fp16LogitsStayWithinTheRoundingBoundOfFp32() throws Exception {
        long[][] ids = {{5, 60, 61, 62, 63, 7, 8, 9}, {100, 200, 300, 1, 2, 3, 4, 0}};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray full = logits(DecoderFiles.load(model, m, DataType.FLOAT32), ids, m);
            NDArray half = logits(DecoderFiles.load(model, m, DataType.FLOAT16), ids, m);
            assertEquals(DataType.FLOAT32, half.getDataType());
            double scale = full.abs().max().getFloat();
            double diff = TestModels.maxAbsDiff(full, half);
            double bound = ROUNDINGS * U16 * scale;
            assertTrue(diff > 0 && diff <= bound, "max |Δlogit| " + diff + ", bound " + bound + " (max |logit| " + scale + ")");
        }
    }

    @Test
    void aTensorBeyondFloat16RangeStaysFloat32AndTheModelStillRuns() throws Exception {
        Map<String, Tensor> tensors = new LinkedHashMap<>(SafeTensors.read(model.resolve("model.safetensors")));
        String big = "model.layers.1.mlp.down_proj.weight";
        float[] v = tensors.get(big).toFloats();
        v[3] = 70000f; // above float16's largest finite value, 65504
        tensors.put(big, Tensor.ofFloats(tensors.get(big).shape(), v));
        SafeTensors.write(model.resolve("model.safetensors"), tensors);
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder d = DecoderFiles.load(model, m, DataType.FLOAT16);
            Map<String, Parameter> p = ((HfModule) d).namedParameters();
            assertEquals(DataType.FLOAT32, p.get(big).getArray().getDataType());
            assertEquals(70000f, p.get(big).getArray().toFloatArray()[3]);
            assertEquals(DataType.FLOAT16, p.get("model.layers.1.mlp.up_proj.weight").getArray().getDataType());
            NDArray out = logits(d, new long[][] {{1, 2, 3}}, m);
            assertTrue(out.isInfinite().logicalOr(out.isNaN()).none().getBoolean());
        }
    }

    @Test
    void fullFineTuneWithFp16IsRefusedNamingTheField() {
        ObjectNode s = spec("fp16", 5);
        s.with("method").removeAll().put("type", "full");
        var e = assertThrows(SpecValidationException.class, () -> job(s));
        assertTrue(e.getMessage().contains("hyperparameters.precision"), e.getMessage());
    }

    /**
     * LoRA on all seven projections, 30 steps of continued pretraining on a periodic text, fp32 and fp16 from the
     * same seed. Both must lower the loss by more than 10 % (measured: 7.75 → 0.57 nats for both), and fp16's curve
     * must follow fp32's: its first loss comes from identical trainable values, so it differs only through the
     * logits' rounding (the mean NLL moves by at most twice the largest logit change, ≤ 2 · 18 · 2^-11 · ~7 ≈ 0.12
     * nats on this model: asked within 5 % of ~7.7), and its last losses stay within 10 % of fp32's. The adapter fp16
     * writes is float32 and loads onto the float32 model.
     */
    @Test
    void loraTrainsOnTheFp16BackboneLikeOnFp32AndWritesAFloat32Adapter() throws Exception {
        var fp32 = job(spec("fp32", 30)).run(dir.resolve("fp32"), null, TrainingListener.NONE, Device.cpu());
        var fp16 = job(spec("fp16", 30)).run(dir.resolve("fp16"), null, TrainingListener.NONE, Device.cpu());
        List<Double> a = fp32.training().losses();
        List<Double> b = fp16.training().losses();
        double end32 = tail(a);
        double end16 = tail(b);
        assertTrue(end32 < 0.9 * a.get(0), "fp32 loss " + a.get(0) + " → " + end32);
        assertTrue(end16 < 0.9 * b.get(0), "fp16 loss " + b.get(0) + " → " + end16);
        assertTrue(Math.abs(a.get(0) - b.get(0)) < 0.05 * a.get(0), "first losses " + a.get(0) + " / " + b.get(0));
        assertTrue(Math.abs(end16 - end32) < 0.1 * end32, "last losses " + end32 + " / " + end16);
        JsonNode metrics = fp16.metrics();
        assertEquals("fp16", metrics.get("precision").asText());
        assertEquals(0, metrics.get("skipped_steps").asLong());
        assertEquals(65536.0, metrics.get("loss_scale").asDouble());
        assertEquals("fp32", fp32.metrics().get("precision").asText());
        assertEquals(1.0, fp32.metrics().get("loss_scale").asDouble());

        try (SafeTensorsFile f = SafeTensorsFile.open(fp16.adapterDir().resolve("adapter_model.safetensors"))) {
            assertTrue(f.entries().size() == 2 * 7 * 2, "tensors: " + f.entries().keySet());
            f.entries().values().forEach(e -> assertEquals(DType.F32, e.dtype(), e.name()));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            CausalModel onFp32 = CausalAdapterFiles.load(fp16.adapterDir(), DecoderFiles.load(model, m), m);
            long[][] ids = {{5, 60, 61, 62, 63, 7}};
            long[][] mask = {{1, 1, 1, 1, 1, 1}};
            NDArray withAdapter = onFp32.logits(new NDList(CausalBatch.create(m, ids), CausalBatch.create(m, mask)), false);
            NDArray base = logits(DecoderFiles.load(model, m), ids, m);
            assertTrue(TestModels.maxAbsDiff(withAdapter, base) > 1e-3, "the trained adapter changes the logits");
        }
    }

    /**
     * The classification path at fp16: the tiny BERT's matrices held in float16, LoRA on query/value and the head
     * trained in float32. LoRA's B starts at 0 and moves only if the gradient flows back through the float16
     * products, so a non-zero B in the saved adapter shows the path is intact; every saved tensor is float32.
     */
    @Test
    void classificationLoraOnAnFp16EncoderMovesLorasBAndSavesFloat32() throws Exception {
        PrecisionFixtures.assertClassificationLoraMovesLorasBAndSavesFloat32(dir, "fp16");
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
