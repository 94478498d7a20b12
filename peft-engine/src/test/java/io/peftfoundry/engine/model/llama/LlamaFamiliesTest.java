package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.CausalDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LLaMA-layout families against tiny models saved by transformers ({@code interop/make_fixtures.py families}):
 * {@code llama3-tiny} (rope_scaling llama3, tied head, attention_bias, head_dim 12, three shards + index),
 * {@code mistral-tiny} (sliding_window 4), {@code qwen2-tiny} (q/k/v biases, tied, rope_scaling linear, bf16 file).
 */
class LlamaFamiliesTest {

    static Path fixtures() throws Exception {
        return LlamaReferenceTest.fixtures();
    }

    /** Logits within 1e-4 of transformers' (float32; the values are ~2, rounding through two layers is ~1e-6). */
    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "mistral-tiny", "qwen2-tiny"})
    void logitsEqualTransformersWithin1e4(String name) throws Exception {
        Map<String, Tensor> ref = SafeTensors.read(fixtures().resolve(name + "-logits.safetensors"));
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder model = CausalDecoder.load(fixtures().resolve(name), m);
            NDArray logits = forward(model, ref, m);
            NDArray expected = ref.get("logits").toNDArray(m, DataType.FLOAT32);
            assertEquals(expected.getShape(), logits.getShape());
            double diff = TestModels.maxAbsDiff(expected.get("0, :, :"), logits.get("0, :, :"));
            double padded = TestModels.maxAbsDiff(expected.get("1, 0:7, :"), logits.get("1, 0:7, :"));
            assertTrue(diff < 1e-4 && padded < 1e-4, name + ": max abs diff " + diff + " / " + padded);
        }
    }

    /** The rotary inverse frequencies (after rope scaling) equal transformers' inv_freq buffer. */
    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "mistral-tiny", "qwen2-tiny"})
    void rotaryFrequenciesEqualTransformers(String name) throws Exception {
        float[] expected = SafeTensors.read(fixtures().resolve(name + "-logits.safetensors")).get("inv_freq").toFloats();
        float[] actual = LlamaRotary.invFreq(LlamaConfig.read(fixtures().resolve(name).resolve("config.json")));
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * expected[i], name + " inv_freq[" + i + "]");
        }
    }

    @Test
    void configsCarryTheirFamilyFeatures() throws Exception {
        LlamaConfig llama3 = LlamaConfig.read(fixtures().resolve("llama3-tiny/config.json"));
        assertEquals("llama3", llama3.ropeScaling().type());
        assertEquals(12, llama3.headDim());
        assertTrue(llama3.tieWordEmbeddings() && llama3.attentionBias());
        LlamaConfig mistral = LlamaConfig.read(fixtures().resolve("mistral-tiny/config.json"));
        assertEquals(4, mistral.slidingWindow());
        LlamaConfig qwen = LlamaConfig.read(fixtures().resolve("qwen2-tiny/config.json"));
        assertTrue(qwen.qkvBias() && !qwen.attentionBias() && qwen.tieWordEmbeddings());
        LlamaForCausalLM q = new LlamaForCausalLM(qwen);
        assertTrue(q.namedParameters().containsKey("model.layers.0.self_attn.k_proj.bias"));
        assertTrue(!q.namedParameters().containsKey("model.layers.0.self_attn.o_proj.bias"));
    }

    /** Without its window the Mistral fixture's logits move: the 10-token rows exercise the window of 4. */
    @Test
    void slidingWindowChangesMistralLogits() throws Exception {
        Map<String, Tensor> ref = SafeTensors.read(fixtures().resolve("mistral-tiny-logits.safetensors"));
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaForCausalLM windowed = LlamaCheckpoint.load(fixtures().resolve("mistral-tiny"), m);
            LlamaConfig c = windowed.config();
            LlamaConfig full = new LlamaConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                    c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(),
                    c.maxPositionEmbeddings(), c.rmsNormEps(), c.ropeTheta(), c.attentionBias(), c.mlpBias(),
                    c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenId(), c.qkvBias(), 0, c.ropeScaling());
            LlamaForCausalLM unwindowed = new LlamaForCausalLM(full);
            windowed.namedParameters().forEach((k, p) ->
                    io.peftfoundry.engine.model.HfModule.assign(unwindowed.namedParameters().get(k), p.getArray()));
            NDArray a = forward(windowed, ref, m);
            NDArray b = forward(unwindowed, ref, m);
            // positions 0..3 see the same keys either way; later ones lose keys to the window
            assertTrue(TestModels.maxAbsDiff(a.get("0, 0:4, :"), b.get("0, 0:4, :")) < 1e-6);
            assertTrue(TestModels.maxAbsDiff(a.get("0, 4:, :"), b.get("0, 4:, :")) > 1e-2);
        }
    }

    @Test
    void savedFamilyConfigReadsBackTheSame(@TempDir Path tmp) throws Exception {
        for (String name : new String[] {"llama3-tiny", "mistral-tiny", "qwen2-tiny"}) {
            LlamaConfig c = LlamaConfig.read(fixtures().resolve(name).resolve("config.json"));
            Path out = tmp.resolve(name + ".json");
            c.write(out);
            assertEquals(c, LlamaConfig.read(out), name);
        }
    }

    @Test
    void unsupportedRopeTypeIsRefusedNamingTheField(@TempDir Path tmp) throws Exception {
        String json = Files.readString(fixtures().resolve("llama3-tiny/config.json")).replace("\"llama3\"", "\"yarn\"");
        Path f = Files.writeString(tmp.resolve("config.json"), json);
        var e = assertThrows(IOException.class, () -> LlamaConfig.read(f));
        assertTrue(e.getMessage().contains("rope_scaling.rope_type 'yarn' is not supported"), e.getMessage());
    }

    @Test
    void qwen2SlidingWindowIsRefusedNamingTheField(@TempDir Path tmp) throws Exception {
        String json = Files.readString(fixtures().resolve("qwen2-tiny/config.json"))
                .replace("\"use_sliding_window\": false", "\"use_sliding_window\": true");
        Path f = Files.writeString(tmp.resolve("config.json"), json);
        var e = assertThrows(IOException.class, () -> LlamaConfig.read(f));
        assertTrue(e.getMessage().contains("use_sliding_window"), e.getMessage());
    }

    @Test
    void unknownFamilyIsRefusedNamingModelType(@TempDir Path tmp) throws Exception {
        String json = Files.readString(fixtures().resolve("mistral-tiny/config.json")).replace("\"mistral\"", "\"gemma2\"");
        Path f = Files.writeString(tmp.resolve("config.json"), json);
        var e = assertThrows(IOException.class, () -> LlamaConfig.read(f));
        assertTrue(e.getMessage().contains("model_type 'gemma2'"), e.getMessage());
    }

    private static NDArray forward(CausalDecoder model, Map<String, Tensor> ref, NDManager m) {
        NDArray ids = ref.get("input_ids").toNDArray(m, DataType.INT64);
        NDArray mask = ref.get("attention_mask").toNDArray(m, DataType.INT64);
        return ((ai.djl.nn.Block) model).forward(new ParameterStore(m, false), new NDList(ids, mask), false).head();
    }
}
