package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.CausalDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Against a tiny random {@code LlamaForCausalLM} saved by transformers ({@code interop/run fixtures}):
 * grouped-query attention (4 query heads, 2 key/value heads), untied head, rope_theta 500000, and the
 * logits transformers computed for two rows (the second right-padded).
 */
class LlamaReferenceTest {

    static Path fixtures() throws Exception {
        return Path.of(LlamaReferenceTest.class.getResource("/decoders/tokenizer.json").toURI()).getParent();
    }

    @Test
    void logitsEqualTransformersWithin1e4() throws Exception {
        Path dir = fixtures();
        Map<String, Tensor> ref = SafeTensors.read(dir.resolve("llama-tiny-logits.safetensors"));
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaForCausalLM model = LlamaCheckpoint.load(dir.resolve("llama-tiny"), m);
            assertEquals(2, model.config().groupSize());
            assertEquals(500000.0, model.config().ropeTheta());
            NDArray ids = ref.get("input_ids").toNDArray(m, DataType.INT64);
            NDArray mask = ref.get("attention_mask").toNDArray(m, DataType.INT64);
            NDArray expected = ref.get("logits").toNDArray(m, DataType.FLOAT32);
            NDArray logits = model.forward(new ParameterStore(m, false), new NDList(ids, mask), false).head();
            assertEquals(expected.getShape(), logits.getShape());
            // logits of size ~2 (std 1.8) in float32 through two layers: rounding is ~1e-6; 1e-4 is the bound
            double diff = TestModels.maxAbsDiff(expected.get("0, :, :"), logits.get("0, :, :"));
            assertTrue(diff < 1e-4, "row 0 max abs diff " + diff);
            double padded = TestModels.maxAbsDiff(expected.get("1, 0:7, :"), logits.get("1, 0:7, :"));
            assertTrue(padded < 1e-4, "row 1 (real tokens) max abs diff " + padded);
        }
    }

    /** Feeding tokens one at a time with the key/value cache gives the logits of the whole sequence at once. */
    @Test
    void cachedDecodingEqualsTheFullForwardPass() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaForCausalLM model = LlamaCheckpoint.load(fixtures().resolve("llama-tiny"), m);
            long[] seq = {5, 17, 200, 3, 42, 99, 7, 150};
            ParameterStore ps = new ParameterStore(m, false);
            NDArray full = model.forward(ps, new NDList(m.create(seq, new Shape(1, seq.length)), null), false).head();
            // prompt of 3 tokens, then one token per call with the cache
            NDList r = model.forward(ps, new NDList(m.create(new long[] {5, 17, 200}, new Shape(1, 3)), null), false);
            double worst = TestModels.maxAbsDiff(full.get(":, 0:3, :"), r.get(0));
            for (int i = 3; i < seq.length; i++) {
                NDList in = new NDList(m.create(new long[] {seq[i]}, new Shape(1, 1)), null);
                in.addAll(r.subList(1, r.size()));
                r = model.forward(ps, in, false);
                assertEquals(new Shape(1, 2, i + 1, 8), r.get(1).getShape(), "cache holds the key/value heads only");
                worst = Math.max(worst, TestModels.maxAbsDiff(full.get(":, " + i + ":" + (i + 1) + ", :"), r.get(0)));
            }
            assertTrue(worst < 1e-5, "cached vs full max abs diff " + worst);
        }
    }

    /** Tied head: no lm_head parameter, logits = hidden · embed_tokensᵀ, and save → load (by model_type) is exact. */
    @Test
    void tiedHeadSavesAndLoads(@TempDir Path tmp) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaConfig c = LlamaConfig.tiny(40, 16, 2, 4, 1, 16, true);
            LlamaForCausalLM model = LlamaCheckpoint.random(c, m, 3, DataType.FLOAT32);
            assertTrue(model.namedParameters().keySet().stream().noneMatch(k -> k.startsWith("lm_head")));
            model.save(tmp);
            // CausalDecoder.load picks the architecture from config.json's model_type
            CausalDecoder loaded = CausalDecoder.load(tmp, m);
            assertTrue(loaded instanceof LlamaForCausalLM, loaded.architecture());
            assertEquals(39, loaded.eosTokenId());
            LlamaForCausalLM back = (LlamaForCausalLM) loaded;
            NDList in = new NDList(m.create(new long[] {1, 2, 3, 4}, new Shape(1, 4)), null);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray a = model.forward(ps, in, false).head();
            NDArray b = back.forward(ps, in, false).head();
            assertEquals(0.0, TestModels.maxAbsDiff(a, b));
            assertEquals(new Shape(1, 4, 40), a.getShape());
        }
    }
}
