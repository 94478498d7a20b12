package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.ia3.Ia3Config;
import io.peftfoundry.engine.method.ia3.Ia3Injector;
import io.peftfoundry.engine.method.ia3.Ia3Linear;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ia3Test {

    @Test
    void wrapsKeyValueAndBothOutputDensesWithPeftShapesAndStartsAsTheBackbone() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            NDList in = TestModels.inputs(m, 2, 6, 1, 2);
            NDArray before = MethodTestSupport.encode(model, m, in);
            InjectedMethod ia3 = PeftMethods.byType("ia3").inject(model, Ia3Config.defaults(), m, 3);
            Map<String, Parameter> p = ia3.trainableParameters();
            assertEquals(2 * 4, p.size());
            // PEFT: (out, 1) for scaled outputs, (1, in) for feed-forward inputs; "output.dense" matches both output projections
            assertEquals(new Shape(16, 1), p.get("encoder.layer.0.attention.self.key.ia3_l").getArray().getShape());
            assertEquals(new Shape(16, 1), p.get("encoder.layer.0.attention.self.value.ia3_l").getArray().getShape());
            assertEquals(new Shape(1, 16), p.get("encoder.layer.0.attention.output.dense.ia3_l").getArray().getShape());
            assertEquals(new Shape(1, 32), p.get("encoder.layer.0.output.dense.ia3_l").getArray().getShape());
            assertTrue(model.namedParameters().containsKey("encoder.layer.1.attention.self.key.base_layer.weight"));
            // scales start at exactly 1: x·1 = x bit for bit
            assertEquals(0.0, TestModels.maxAbsDiff(before, MethodTestSupport.encode(model, m, in)));
        }
    }

    @Test
    void trainingTouchesOnlyScalesAndHead() {
        // per layer: key 16 + value 16 + attention.output.dense input 16 + FFN output.dense input 32
        assertEquals(2L * (16 + 16 + 16 + 32), MethodTestSupport.trainStepsTouchOnlyMethodAndHead(Ia3Config.defaults(), 8, 0));
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        MethodTestSupport.gradientMatchesFiniteDifferences(Ia3Config.defaults(), 10);
        MethodTestSupport.gradientMatchesFiniteDifferences(new Ia3Config(List.of("query", "intermediate.dense"), List.of("intermediate.dense")), 10);
    }

    @Test
    void feedforwardScalesTheInputOtherwiseTheOutput() {
        try (NDManager m = NDManager.newBaseManager()) {
            HfLinear base = new HfLinear(3, 2, true);
            HfModule.assign(base.weight(), m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)));
            HfModule.assign(base.bias(), m.create(new float[] {0.5f, -1}, new Shape(2)));
            NDArray x = m.create(new float[] {1, -1, 2}, new Shape(1, 3));
            var ps = new ParameterStore(m, false);
            Ia3Linear ff = new Ia3Linear(base, true);
            HfModule.assign(ff.scale(), m.create(new float[] {2, 3, 0.5f}, new Shape(1, 3)));
            // x ⊙ l = (2, -3, 1); W·(2,-3,1) + b = (2-6+3+0.5, 8-15+6-1) = (-0.5, -2)
            assertArrayEquals(new float[] {-0.5f, -2f}, ff.forward(ps, new NDList(x), false).head().toFloatArray(), 1e-6f);
            Ia3Linear out = new Ia3Linear(base, false);
            HfModule.assign(out.scale(), m.create(new float[] {2, -1}, new Shape(2, 1)));
            // W·x + b = (1-2+6+0.5, 4-5+12-1) = (5.5, 10); ⊙ (2, -1) = (11, -10)
            assertArrayEquals(new float[] {11f, -10f}, out.forward(ps, new NDList(x), false).head().toFloatArray(), 1e-6f);
        }
    }

    @Test
    void mergedEqualsUnmergedAndUnmergeRestoresWeights() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            Map<String, Tensor> before = io.peftfoundry.engine.model.bert.BertCheckpoint.backboneTensors(model);
            InjectedMethod ia3 = PeftMethods.byType("ia3").inject(model, Ia3Config.defaults(), m, 3);
            MethodTestSupport.perturb(ia3, m, 8, 0.3);
            NDList in = TestModels.inputs(m, 2, 6, 1, 2);
            NDArray unmerged = MethodTestSupport.encode(model, m, in);
            assertTrue(ia3.supportsMerge());
            ia3.merge();
            NDArray merged = MethodTestSupport.encode(model, m, in);
            // (x⊙l)·Wᵀ vs x·(W⊙l)ᵀ: float32 re-association, a few ulps on O(1) activations
            assertTrue(TestModels.maxAbsDiff(unmerged, merged) < 1e-5, "diff " + TestModels.maxAbsDiff(unmerged, merged));
            ia3.unmerge();
            Map<String, Tensor> after = io.peftfoundry.engine.model.bert.BertCheckpoint.backboneTensors(model);
            for (String k : before.keySet()) {
                float[] a = before.get(k).toFloats();
                float[] b = after.get(k).toFloats();
                for (int i = 0; i < a.length; i++) {
                    // w·l/l: two roundings, relative error ≤ 2⁻²³ each
                    assertEquals(a[i], b[i], 1e-6 * Math.abs(a[i]) + 1e-12, k);
                }
            }
            assertEquals(0.0, TestModels.maxAbsDiff(unmerged, MethodTestSupport.encode(model, m, in)), 1e-6);
        }
    }

    @Test
    void mergedIa3SavesAPlainModelThatEqualsTheAdapter() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            var model = io.peftfoundry.engine.task.classification.ClassificationModel.create(TestModels.tiny(m, 1),
                    Ia3Config.defaults(), MethodTestSupport.LABELS, io.peftfoundry.engine.task.classification.Pooling.MEAN, m, 2);
            MethodTestSupport.perturb(model.method(), m, 6, 0.3);
            NDList in = TestModels.inputs(m, 3, 7, 2, 8);
            NDArray adapter = model.logits(in, false);
            model.method().merge();
            java.nio.file.Path dir = MethodTestSupport.tempDir();
            io.peftfoundry.engine.adapter.AdapterFiles.saveFullModel(model, dir);
            var merged = io.peftfoundry.engine.adapter.AdapterFiles.load(dir, null, m);
            assertFalse(merged.backbone().namedParameters().keySet().stream().anyMatch(k -> k.contains("ia3")));
            // same float32 re-association bound as the in-memory merge
            double diff = TestModels.maxAbsDiff(adapter, merged.logits(in, false));
            assertTrue(diff < 1e-5, "merged model vs adapter " + diff);
        }
    }

    @Test
    void savedAsPeftIa3AndLoadsBack() throws Exception {
        Map<String, Tensor> onDisk = MethodTestSupport.saveLoadGivesIdenticalOutputs(Ia3Config.defaults(), MethodTestSupport.tempDir());
        assertTrue(onDisk.containsKey("base_model.model.encoder.layer.0.attention.self.key.ia3_l"), onDisk.keySet().toString());
        assertArrayEquals(new long[] {1, 32}, onDisk.get("base_model.model.encoder.layer.1.output.dense.ia3_l").shape());
        try (NDManager m = NDManager.newBaseManager()) {
            InjectedMethod ia3 = new Ia3Injector().inject(TestModels.tiny(m, 1), Ia3Config.defaults(), m, 1);
            var c = ia3.adapterConfig();
            assertEquals("IA3", c.get("peft_type").asText());
            assertEquals("[\"key\",\"value\",\"output.dense\"]", c.get("target_modules").toString());
            assertEquals("[\"output.dense\"]", c.get("feedforward_modules").toString());
            var bad = Map.of("encoder.layer.0.attention.self.key.ia3_l", Tensor.ofFloats(new long[] {1, 16}, new float[16]));
            var e = assertThrows(java.io.IOException.class, () -> ia3.loadStateDict(bad, m));
            assertTrue(e.getMessage().contains("missing") || e.getMessage().contains("shape"), e.getMessage());
        }
    }

    @Test
    void specDefaultsAndErrorsNameTheField() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals(Ia3Config.defaults(), MethodTestSupport.fromSpec(("{\"type\":\"ia3\"}")));
        Ia3Config kv = (Ia3Config) MethodTestSupport.fromSpec(("{\"type\":\"ia3\",\"ia3\":{\"target_modules\":[\"key\",\"value\"]}}"));
        assertEquals(List.of(), kv.feedforwardModules());
        for (String[] bad : new String[][] {
                {"{\"target_modules\":[]}", "method.ia3.target_modules"},
                {"{\"target_modules\":[\"key\"],\"feedforward_modules\":[\"output.dense\"]}", "method.ia3.feedforward_modules"},
                {"{\"target_modules\":\"key\",\"scale\":2}", "method.ia3.scale"}}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> MethodTestSupport.fromSpec(("{\"type\":\"ia3\",\"ia3\":" + bad[0] + "}")));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
        try (NDManager m = NDManager.newBaseManager()) {
            var e = assertThrows(IllegalArgumentException.class, () -> PeftMethods.byType("ia3")
                    .inject(TestModels.tiny(m, 1), new Ia3Config(List.of("k_proj"), List.of()), m, 1));
            assertTrue(e.getMessage().contains("method.ia3.target_modules: [k_proj]"), e.getMessage());
        }
    }

    @Test
    void lossFallsOnToyTask() {
        double[] loss = MethodTestSupport.trainToyTask(Ia3Config.defaults());
        assertTrue(loss[1] < 0.6 * loss[0], "loss " + loss[0] + " → " + loss[1]);
        assertFalse(Double.isNaN(loss[1]));
    }
}
