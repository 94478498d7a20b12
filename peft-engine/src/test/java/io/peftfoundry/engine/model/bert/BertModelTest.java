package io.peftfoundry.engine.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BertModelTest {

    @TempDir
    Path dir;

    @Test
    void parameterNamesAreHuggingFaceKeys() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            var names = model.namedParameters().keySet();
            assertTrue(names.containsAll(List.of(
                    "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                    "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.key.bias",
                    "encoder.layer.1.attention.self.value.weight", "encoder.layer.1.attention.output.dense.weight",
                    "encoder.layer.1.attention.output.LayerNorm.weight", "encoder.layer.1.intermediate.dense.weight",
                    "encoder.layer.1.output.dense.weight", "encoder.layer.1.output.LayerNorm.bias")), names.toString());
            // 5 embedding tensors + 16 per layer (6 linears × 2 + 2 LayerNorms × 2)
            assertEquals(5 + 16 * 2, names.size());
        }
    }

    @Test
    void saveThenLoadGivesIdenticalOutputs() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel a = TestModels.tiny(m, 2);
            BertCheckpoint.save(a, dir);
            BertModel b = BertCheckpoint.load(dir, m);
            NDList in = TestModels.inputs(m, 2, 7, 2, 3);
            NDArray ya = a.forward(new ParameterStore(m, false), in, false).head();
            NDArray yb = b.forward(new ParameterStore(m, false), in, false).head();
            assertEquals(0.0, TestModels.maxAbsDiff(ya, yb));
            assertEquals(new ai.djl.ndarray.types.Shape(2, 7, 16), ya.getShape());
        }
    }

    @Test
    void paddedPositionsDoNotChangeRealTokens() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 4);
            NDList padded = TestModels.inputs(m, 1, 8, 3, 5);
            NDList trimmed = new NDList(padded.get(0).get(":, :5"), padded.get(1).get(":, :5"), padded.get(2).get(":, :5"));
            var ps = new ParameterStore(m, false);
            NDArray yp = model.forward(ps, padded, false).head().get(":, :5, :");
            NDArray yt = model.forward(ps, trimmed, false).head();
            // exp(-10000) underflows to 0 in float32, so masked keys contribute exactly nothing; allow rounding only
            assertTrue(TestModels.maxAbsDiff(yp, yt) < 1e-5);
        }
    }

    @Test
    void loadNamesAMissingTensorAndAShapeMismatch() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            BertCheckpoint.save(TestModels.tiny(m, 2), dir);
            Map<String, Tensor> t = new java.util.LinkedHashMap<>(SafeTensors.read(dir.resolve("model.safetensors")));
            t.remove("encoder.layer.1.output.dense.bias");
            SafeTensors.write(dir.resolve("model.safetensors"), t);
            var e = assertThrows(java.io.IOException.class, () -> BertCheckpoint.load(dir, m));
            assertTrue(e.getMessage().contains("missing tensor 'encoder.layer.1.output.dense.bias'"), e.getMessage());
            t.put("encoder.layer.1.output.dense.bias", Tensor.ofFloats(new long[] {3}, new float[3]));
            SafeTensors.write(dir.resolve("model.safetensors"), t);
            e = assertThrows(java.io.IOException.class, () -> BertCheckpoint.load(dir, m));
            assertTrue(e.getMessage().contains("'encoder.layer.1.output.dense.bias' has shape [3]"), e.getMessage());
        }
    }
}
