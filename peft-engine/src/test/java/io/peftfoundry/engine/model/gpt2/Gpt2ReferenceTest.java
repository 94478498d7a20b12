package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Against fixtures written by Hugging Face libraries ({@code interop/run fixtures}): a byte-level BPE
 * tokenizer trained with {@code tokenizers}, a tiny random {@code GPT2LMHeadModel} saved by transformers
 * and the logits transformers computed for two rows (the second right-padded).
 */
class Gpt2ReferenceTest {

    static Path fixtures() throws Exception {
        return Path.of(Gpt2ReferenceTest.class.getResource("/decoders/tokenizer.json").toURI()).getParent();
    }

    @Test
    void logitsEqualTransformersWithin1e4() throws Exception {
        Path dir = fixtures();
        Map<String, Tensor> ref = SafeTensors.read(dir.resolve("gpt2-tiny-logits.safetensors"));
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.load(dir.resolve("gpt2-tiny"), m);
            assertEquals(320, model.config().vocabSize());
            NDArray ids = ref.get("input_ids").toNDArray(m, DataType.FLOAT32);
            NDArray mask = ref.get("attention_mask").toNDArray(m, DataType.FLOAT32);
            NDArray expected = ref.get("logits").toNDArray(m, DataType.FLOAT32);
            NDArray logits = model.forward(new ParameterStore(m, false), new NDList(ids, mask), false).head();
            assertEquals(expected.getShape(), logits.getShape());
            // float32 through two layers: differences are rounding (~1e-6); 1e-4 is the bound
            double diff = TestModels.maxAbsDiff(expected.get("0, :, :"), logits.get("0, :, :"));
            assertTrue(diff < 1e-4, "row 0 max abs diff " + diff);
            double padded = TestModels.maxAbsDiff(expected.get("1, 0:7, :"), logits.get("1, 0:7, :"));
            assertTrue(padded < 1e-4, "row 1 (real tokens) max abs diff " + padded);
        }
    }

    @Test
    void byteLevelBpeMatchesTheTokenizersLibrary() throws Exception {
        Path dir = fixtures();
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("tokenizer-cases.json").toFile());
        try (CausalTokenizer tok = new CausalTokenizer(dir.resolve("tokenizer.json"))) {
            for (JsonNode c : cases) {
                long[] expected = new long[c.get("ids").size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = c.get("ids").get(i).asLong();
                }
                String text = c.get("text").asText();
                assertArrayEquals(expected, tok.encode(text), text);
                assertEquals(text, tok.decode(expected));
            }
        }
    }
}
