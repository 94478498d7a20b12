package io.peftfoundry.engine.training;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingTest {

    @TempDir
    Path dir;

    private static final LabelMap LABELS = LabelMap.fromObserved(List.of("pos", "neg"));
    private static final LoraConfig LORA = new LoraConfig(4, 8, 0.1, List.of("query", "value"), false);

    private static TrainingConfig config(int epochs, int accumulation, long seed) {
        return new TrainingConfig(epochs, 8, 1e-2, 32, 0.1, 0.01, accumulation, null, 0, 0, false, 1.0, null, seed);
    }

    private ClassificationModel model(NDManager m, BertModel backbone, MethodConfig method) {
        return ClassificationModel.create(backbone, method, LABELS, Pooling.MEAN, m, 11);
    }

    @Test
    void loraLearnsTheToyTaskAndLeavesTheBackboneBitIdentical() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            BertModel backbone = TestModels.tiny(m, 1);
            Map<String, Tensor> before = BertCheckpoint.backboneTensors(backbone);
            ClassificationModel model = model(m, backbone, LORA);
            TrainingConfig cfg = new TrainingConfig(10, 8, 5e-2, 32, 0.1, 0.0, 1, null, 0, 0, false, 1.0, null, 5);
            ClassificationTrainer trainer = new ClassificationTrainer(model, tok, cfg, m);
            List<Example> train = TestModels.toyTask(96, 1);
            List<Example> valid = TestModels.toyTask(40, 2);
            EvalResult initial = trainer.evaluate(valid);
            TrainingResult r = trainer.train(train, valid, null, null, TrainingListener.NONE);
            assertEquals(10 * 12, r.steps());
            // a two-class head starts near chance: loss ≈ ln 2, accuracy ≈ 0.5; one signal word among 3–7 random
            // fillers in a frozen random 16-dim encoder is learnable but noisy, hence the loose bounds
            assertTrue(Math.abs(initial.loss() - Math.log(2)) < 0.05, "initial loss " + initial.loss());
            assertTrue(r.lastEval().loss() < 0.5 * initial.loss(), "eval loss " + initial.loss() + " → " + r.lastEval().loss());
            assertTrue(r.lastEval().accuracy() >= 0.8, "accuracy " + r.lastEval().accuracy());
            assertEquals(before, BertCheckpoint.backboneTensors(backbone));
        }
    }

    @Test
    void resumeContinuesTheSameLossCurve() throws Exception {
        List<Example> train = TestModels.toyTask(40, 3);
        TrainingConfig cfg = config(2, 2, 9); // 5 micro-batches per epoch → 3 steps per epoch, last one short
        List<Double> uninterrupted;
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            var trainer = new ClassificationTrainer(model(m, TestModels.tiny(m, 1), LORA), tok, cfg, m);
            uninterrupted = trainer.train(train, null, null, null, TrainingListener.NONE).losses();
        }
        assertEquals(6, uninterrupted.size());
        List<Double> resumed = new ArrayList<>();
        Path ckpts = dir.resolve("ckpt");
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            var trainer = new ClassificationTrainer(model(m, TestModels.tiny(m, 1), LORA), tok, cfg, m);
            // stop mid-epoch after step 2: the checkpoint must carry the data position
            var stopAfter2 = new TrainingListener() {
                long steps;

                @Override
                public void onStep(long step, long total, int epoch, double loss, double lr, double tps, double eta) {
                    steps = step;
                }

                @Override
                public boolean stopRequested() {
                    return steps == 2;
                }
            };
            TrainingResult first = trainer.train(train, null, ckpts, null, stopAfter2);
            assertEquals("requested", first.stopReason());
            resumed.addAll(first.losses());
        }
        assertTrue(Files.isDirectory(ckpts.resolve("checkpoint-2")));
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            // a fresh process: new backbone, new (differently seeded) method init, all replaced by the checkpoint
            ClassificationModel fresh = ClassificationModel.create(TestModels.tiny(m, 1), LORA, LABELS, Pooling.MEAN, m, 99);
            var trainer = new ClassificationTrainer(fresh, tok, cfg, m);
            TrainingResult rest = trainer.train(train, null, null, Checkpoint.read(ckpts.resolve("checkpoint-2")),
                    TrainingListener.NONE);
            resumed.addAll(rest.losses());
        }
        // one intra-op thread (surefire config) and per-step dropout seeds: the curves agree exactly
        assertEquals(uninterrupted, resumed);
    }

    @Test
    void earlyStoppingEndsTheRunAfterPatienceEvaluationsWithoutImprovement() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            // a learning rate of 1e-30 leaves every weight as it was: the eval loss of step 1 is never beaten
            TrainingConfig cfg = new TrainingConfig(3, 8, 1e-30, 32, 0.0, 0.0, 1, null, 1, 0, false, 1.0, 2, 1);
            var trainer = new ClassificationTrainer(model(m, TestModels.tiny(m, 1), LORA), tok, cfg, m);
            List<Long> evalSteps = new ArrayList<>();
            TrainingResult r = trainer.train(TestModels.toyTask(32, 1), TestModels.toyTask(8, 2), null, null,
                    new TrainingListener() {
                        @Override
                        public void onEval(long step, EvalResult result) {
                            evalSteps.add(step);
                        }
                    });
            // step 1 sets the best loss, steps 2 and 3 do not improve on it: patience 2 is used up at step 3
            assertEquals("early_stopping", r.stopReason());
            assertEquals(List.of(1L, 2L, 3L), evalSteps);
            assertEquals(3, r.steps());
        }
    }

    @Test
    void onlyTheNewestCheckpointsAreKept() throws Exception {
        Path root = dir.resolve("prune");
        for (int step : new int[] {5, 100, 20, 7}) {
            Files.createDirectories(root.resolve("checkpoint-" + step));
            Files.writeString(root.resolve("checkpoint-" + step).resolve("trainer_state.json"), "{}");
        }
        TrainingLoop.pruneCheckpoints(root, 2);
        try (var s = Files.list(root)) {
            assertEquals(java.util.Set.of("checkpoint-20", "checkpoint-100"),
                    s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
    }

    @Test
    void nonFiniteLossFailsTheRunNamingTheStep() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            ClassificationModel model = model(m, TestModels.tiny(m, 1), LORA);
            var w = model.network().classifier().weight();
            float[] nan = new float[(int) w.getArray().size()];
            java.util.Arrays.fill(nan, Float.NaN);
            HfModule.assign(w, m.create(nan, w.getArray().getShape()));
            var trainer = new ClassificationTrainer(model, tok, config(1, 1, 1), m);
            var e = assertThrows(NonFiniteLossException.class,
                    () -> trainer.train(TestModels.toyTask(16, 1), null, null, null, TrainingListener.NONE));
            assertTrue(e.getMessage().contains("at step 1"), e.getMessage());
        }
    }

    @Test
    void adamWFirstStepIsSignOfGradientTimesLrAfterDecay() {
        try (NDManager m = NDManager.newBaseManager()) {
            var p = ai.djl.nn.Parameter.builder().setName("w").setType(ai.djl.nn.Parameter.Type.OTHER).build();
            HfModule.assign(p, m.create(new float[] {1f, -2f}, new Shape(2)));
            p.getArray().setRequiresGradient(true);
            try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                gc.backward(p.getArray().mul(m.create(new float[] {3f, -0.5f})).sum()); // gradient (3, -0.5)
            }
            new AdamW().step(Map.of("w", p), 0.1, 0.5, n -> true);
            // decay: w·(1 − 0.1·0.5) = (0.95, −1.9); m̂ = g, v̂ = g² → step −0.1·g/|g| = (−0.1, +0.1)
            float[] w = p.getArray().toFloatArray();
            assertEquals(0.85, w[0], 1e-6);
            assertEquals(-1.8, w[1], 1e-6);
        }
    }

    @Test
    void adamWFollowsTorchAdamWFormulaOverSeveralStepsWithChangingGradients() {
        checkAdamWAgainstFormula(0.1);
    }

    /** Weight decay 0 takes the kernel's other (coupled) branch: the same update without any decay term. */
    @Test
    void adamWWithoutWeightDecayFollowsTorchAdamWFormulaOverSeveralSteps() {
        checkAdamWAgainstFormula(0.0);
    }

    private static void checkAdamWAgainstFormula(double wd) {
        // reference: torch.optim.AdamW's update in double precision, written out: w ← w(1 − lr·wd);
        // m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
        double lr = 0.05;
        double eps = 1e-8;
        double[] w = {1.0, -2.0, 0.5};
        double[] mRef = new double[3];
        double[] vRef = new double[3];
        double[][] coeff = {{3, -0.5, 0.01}, {-1, 2, 0.02}, {0.5, 0.5, -4}, {2, -3, 1e-4}};
        try (NDManager m = NDManager.newBaseManager()) {
            var p = ai.djl.nn.Parameter.builder().setName("w").setType(ai.djl.nn.Parameter.Type.OTHER).build();
            HfModule.assign(p, m.create(new float[] {1f, -2f, 0.5f}, new Shape(3)));
            p.getArray().setRequiresGradient(true);
            AdamW adam = new AdamW();
            for (int t = 1; t <= coeff.length; t++) {
                float[] c = {(float) coeff[t - 1][0], (float) coeff[t - 1][1], (float) coeff[t - 1][2]};
                try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                    gc.backward(p.getArray().mul(m.create(c)).sum()); // gradient = c
                }
                adam.step(Map.of("w", p), lr, wd, n -> true);
                TrainingLoop.zeroGradients(Map.of("w", p));
                for (int i = 0; i < 3; i++) {
                    double g = c[i];
                    w[i] *= 1 - lr * wd;
                    mRef[i] = 0.9 * mRef[i] + 0.1 * g;
                    vRef[i] = 0.999 * vRef[i] + 0.001 * g * g;
                    w[i] -= lr * (mRef[i] / (1 - Math.pow(0.9, t))) / (Math.sqrt(vRef[i] / (1 - Math.pow(0.999, t))) + eps);
                }
                float[] got = p.getArray().toFloatArray();
                for (int i = 0; i < 3; i++) {
                    // float32 arithmetic on values of order 1: a few ulps per step
                    assertEquals(w[i], got[i], 2e-6, "step " + t + " element " + i);
                }
            }
        }
    }

    @Test
    void scheduleWarmsUpThenDecaysLinearlyOrByCosine() {
        var lin = LearningRateSchedule.of(1.0, 10, 0.2, false); // 2 warmup steps
        assertEquals(0.5, lin.at(0), 1e-12);
        assertEquals(1.0, lin.at(1), 1e-12);
        assertEquals(1.0, lin.at(2), 1e-12);
        assertEquals(0.5, lin.at(6), 1e-12); // 4 of 8 decay steps done
        var cos = LearningRateSchedule.of(1.0, 10, 0.2, true);
        assertEquals(0.5, cos.at(6), 1e-12); // cos(π/2) = 0 → half
        assertEquals(0.5 * (1 + Math.cos(Math.PI / 4)), cos.at(4), 1e-12);
    }

    @Test
    void metricsFromAKnownConfusionMatrix() {
        // truth a a a b b c ; predicted a a b b c c
        EvalResult r = EvalResult.of(List.of("a", "b", "c"), new int[] {0, 0, 0, 1, 1, 2}, new int[] {0, 0, 1, 1, 2, 2}, 3.0);
        assertEquals(4.0 / 6, r.accuracy(), 1e-12);
        assertEquals(0.5, r.loss(), 1e-12);
        // a: P 2/2, R 2/3; b: P 1/2, R 1/2; c: P 1/2, R 1/1
        assertEquals(1.0, r.precision()[0], 1e-12);
        assertEquals(2.0 / 3, r.recall()[0], 1e-12);
        double f1a = 2 * 1.0 * (2.0 / 3) / (1 + 2.0 / 3);
        double f1b = 0.5;
        double f1c = 2 * 0.5 * 1 / 1.5;
        assertEquals((f1a + f1b + f1c) / 3, r.macroF1(), 1e-12);
        assertEquals(1, r.confusion()[0][1]);
    }
}
