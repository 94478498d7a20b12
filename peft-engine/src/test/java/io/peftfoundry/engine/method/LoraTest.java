package io.peftfoundry.engine.method;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.lora.LoraLinear;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.task.classification.SequenceClassifier;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraTest {

    private static final LabelMap LABELS = new LabelMap(List.of("neg", "pos", "neutral"));

    private static LoraConfig allTargets() {
        return new LoraConfig(4, 8, 0.0, List.of("query", "key", "value", "dense"), false);
    }

    /** Gives every lora_B random values so the low-rank path is not the zero it starts as. */
    private static void randomizeB(InjectedMethod method, NDManager m) {
        Random r = new Random(9);
        for (Map.Entry<String, Parameter> e : method.trainableParameters().entrySet()) {
            if (e.getKey().endsWith("lora_B.weight")) {
                Shape s = e.getValue().getArray().getShape();
                float[] v = new float[(int) s.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * 0.1);
                }
                HfModule.assign(e.getValue(), m.create(v, s));
            }
        }
    }

    @Test
    void injectionWrapsEveryMatchedLinearAndStartsEqualToBackbone() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel plain = TestModels.tiny(m, 1);
            BertModel model = TestModels.tiny(m, 1);
            NDList in = TestModels.inputs(m, 2, 6, 1, 2);
            var ps = new ParameterStore(m, false);
            NDArray before = plain.forward(ps, in, false).head();
            InjectedMethod lora = PeftMethods.byType("lora").inject(model, allTargets(), m, 3);
            // "dense" matches attention.output.dense, intermediate.dense and output.dense: 6 linears per layer
            assertEquals(2 * 6 * 2, lora.trainableParameters().size());
            assertTrue(lora.trainableParameters().containsKey("encoder.layer.0.attention.self.query.lora_A.weight"));
            assertTrue(model.namedParameters().containsKey("encoder.layer.1.output.dense.base_layer.weight"));
            // B = 0 at init: the wrapped model computes exactly what the backbone does
            assertEquals(0.0, TestModels.maxAbsDiff(before, model.forward(ps, in, false).head()));
        }
    }

    @Test
    void unmatchedTargetIsRejectedByName() {
        try (NDManager m = NDManager.newBaseManager()) {
            var cfg = new LoraConfig(4, 8, 0, List.of("query", "q_proj"), false);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> PeftMethods.byType("lora").inject(TestModels.tiny(m, 1), cfg, m, 1));
            assertTrue(e.getMessage().contains("target_modules: [q_proj]"), e.getMessage());
        }
    }

    @Test
    void rsLoraScalesByAlphaOverSqrtRank() {
        assertEquals(16.0 / 8, new LoraConfig(8, 16, 0, List.of("query"), false).scaling());
        assertEquals(16.0 / Math.sqrt(8), new LoraConfig(8, 16, 0, List.of("query"), true).scaling());
    }

    @Test
    void mergedEqualsUnmergedAndUnmergeRestoresWeights() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            NDArray q0 = model.layer(0).attention().self().module("query") instanceof HfLinear l
                    ? l.weight().getArray().duplicate() : null;
            InjectedMethod lora = PeftMethods.byType("lora").inject(model, allTargets(), m, 3);
            randomizeB(lora, m);
            NDList in = TestModels.inputs(m, 2, 6, 1, 2);
            var ps = new ParameterStore(m, false);
            NDArray unmerged = model.forward(ps, in, false).head();
            lora.merge();
            NDArray merged = model.forward(ps, in, false).head();
            // float32 re-association of (x·W + s·x·A^T·B^T) vs x·(W + s·B·A): a few ulps on O(1) activations
            assertTrue(TestModels.maxAbsDiff(unmerged, merged) < 1e-5, "diff " + TestModels.maxAbsDiff(unmerged, merged));
            lora.unmerge();
            LoraLinear q = (LoraLinear) model.layer(0).attention().self().module("query");
            assertTrue(TestModels.maxAbsDiff(q0, q.base().weight().getArray()) < 1e-6);
        }
    }

    @Test
    void loraGradientMatchesFiniteDifferencesInDoublePrecision() {
        try (NDManager m = NDManager.newBaseManager()) {
            int in = 5;
            int out = 4;
            int r = 2;
            Random rnd = new Random(5);
            HfLinear base = new HfLinear(in, out, true);
            base.weight().freeze(true);
            base.bias().freeze(true);
            HfModule.assign(base.weight(), gaussian(m, rnd, out, in));
            HfModule.assign(base.bias(), gaussian(m, rnd, out));
            LoraLinear lora = new LoraLinear(base, r, 1.5, 0.0);
            lora.loraA().freeze(false);
            lora.loraB().freeze(false);
            HfModule.assign(lora.loraA(), gaussian(m, rnd, r, in));
            HfModule.assign(lora.loraB(), gaussian(m, rnd, out, r));
            NDArray x = gaussian(m, rnd, 3, in);
            NDArray c = gaussian(m, rnd, 3, out);
            var ps = new ParameterStore(m, false);
            // L = sum(c ⊙ tanh(lora(x))): non-linear so second-order terms show up in a bad gradient
            java.util.function.Supplier<NDArray> loss = () -> lora.forward(ps, new NDList(x), true).head().tanh().mul(c).sum();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss.get());
            }
            for (Parameter p : List.of(lora.loraA(), lora.loraB())) {
                double[] analytic = p.getArray().getGradient().toDoubleArray();
                double[] w = p.getArray().toDoubleArray();
                double h = 1e-6;
                for (int i = 0; i < w.length; i++) {
                    double[] plus = w.clone();
                    plus[i] += h;
                    double[] minus = w.clone();
                    minus[i] -= h;
                    HfModule.assign(p, m.create(plus, p.getArray().getShape()));
                    double lp = loss.get().getDouble();
                    HfModule.assign(p, m.create(minus, p.getArray().getShape()));
                    double lm = loss.get().getDouble();
                    HfModule.assign(p, m.create(w, p.getArray().getShape()));
                    double numeric = (lp - lm) / (2 * h);
                    // central differences in float64: error O(h²) + O(1e-16/h) ≈ 1e-10
                    assertEquals(numeric, analytic[i], 1e-7, p.getName() + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void gradientsReachOnlyLoraAndHeadAndBackboneStaysBitIdentical() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel backbone = TestModels.tiny(m, 1);
            Map<String, Tensor> before = BertCheckpoint.backboneTensors(backbone);
            ClassificationModel model = ClassificationModel.create(backbone, allTargets(), LABELS, Pooling.MEAN, m, 3);
            randomizeB(model.method(), m);
            var trainable = model.trainableParameters();
            assertEquals(2 * 6 * 2 + 2, trainable.size());
            NDList in = TestModels.inputs(m, 3, 6, 2, 2);
            NDArray labels = m.create(new long[] {0, 1, 2});
            for (int step = 0; step < 3; step++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(SequenceClassifier.crossEntropy(model.logits(in, true), labels));
                }
                for (Map.Entry<String, Parameter> e : model.network().namedParameters().entrySet()) {
                    NDArray a = e.getValue().getArray();
                    if (trainable.containsValue(e.getValue())) {
                        assertTrue(a.hasGradient(), e.getKey());
                        assertTrue(a.getGradient().abs().sum().getFloat() > 0, "zero gradient on " + e.getKey());
                        a.subi(a.getGradient().mul(0.1f));
                        a.getGradient().subi(a.getGradient());
                    } else {
                        assertFalse(a.hasGradient(), "frozen " + e.getKey() + " has a gradient");
                    }
                }
            }
            assertEquals(before, BertCheckpoint.backboneTensors(backbone));
            long lora = 2L * (16 * 4 + 4 * 16) * 4 + 2L * 2 * (16 * 4 + 4 * 32); // per layer: 4 H×H + intermediate (H→I) + output (I→H)
            assertEquals(lora + 3 * 16 + 3, model.trainableParameterCount());
        }
    }

    @Test
    void fullFineTuneTrainsEveryWeight() {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), new FullFineTune.Config(),
                    LABELS, Pooling.CLS, m, 3);
            assertEquals(model.totalParameterCount(), model.trainableParameterCount());
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(SequenceClassifier.crossEntropy(model.logits(TestModels.inputs(m, 3, 6, 0, 2), true),
                        m.create(new long[] {0, 1, 2})));
            }
            model.network().namedParameters().forEach((k, p) -> assertTrue(p.getArray().hasGradient(), k));
        }
    }

    private static NDArray gaussian(NDManager m, Random r, long... shape) {
        double[] v = new double[(int) new Shape(shape).size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        return m.create(v, new Shape(shape));
    }
}
