package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDManager;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.adapter.AdapterConfig;
import io.peftfoundry.engine.method.ia3.Ia3Config;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.method.prompt.PromptConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.Checkpoint;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.engine.training.TrainingResult;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The adapter, prefix, prompt and IA3 methods through the engine's own training loop (as TrainingTest does for LoRA). */
class MethodTrainingTest {

    private static final LabelMap LABELS = LabelMap.fromObserved(List.of("pos", "neg"));

    @TempDir
    Path dir;

    static Stream<MethodConfig> methods() {
        return Stream.of(
                AdapterConfig.of(AdapterConfig.Variant.HOULSBY, 4, "relu"),
                AdapterConfig.of(AdapterConfig.Variant.PFEIFFER, 4, "relu"),
                AdapterConfig.of(AdapterConfig.Variant.PARALLEL, 4, "relu"),
                new PrefixConfig(4, 16, true),
                new PromptConfig(4, PromptConfig.Init.VOCAB),
                Ia3Config.defaults());
    }

    @ParameterizedTest
    @MethodSource("methods")
    void learnsTheToyTaskAndLeavesTheBackboneBitIdentical(MethodConfig method) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            BertModel backbone = TestModels.tiny(m, 1);
            Map<String, Tensor> before = BertCheckpoint.backboneTensors(backbone);
            ClassificationModel model = ClassificationModel.create(backbone, method, LABELS, Pooling.MEAN, m, 11);
            TrainingConfig cfg = new TrainingConfig(20, 8, 5e-2, 32, 0.1, 0.0, 1, null, 0, 0, false, 1.0, null, 5);
            ClassificationTrainer trainer = new ClassificationTrainer(model, tok, cfg, m);
            List<Example> valid = TestModels.toyTask(40, 2);
            EvalResult initial = trainer.evaluate(valid);
            TrainingResult r = trainer.train(TestModels.toyTask(96, 1), valid, null, null, TrainingListener.NONE);
            // 20 epochs of 12 steps: well clear of chance (loss ln 2, accuracy 50%); 40 validation sentences are a
            // coarse measure (one sentence = 2.5 points), hence bounds looser than what the runs reach (≤ 0.65·ln 2, ≥ 80%)
            assertTrue(r.lastEval().loss() < 0.75 * initial.loss(), method + ": eval loss " + initial.loss() + " → " + r.lastEval().loss());
            assertTrue(r.lastEval().accuracy() >= 0.75, method + ": accuracy " + r.lastEval().accuracy());
            assertEquals(before, BertCheckpoint.backboneTensors(backbone));
        }
    }

    @ParameterizedTest
    @MethodSource("methods")
    void resumeContinuesTheSameLossCurve(MethodConfig method) throws Exception {
        List<Example> train = TestModels.toyTask(40, 3);
        TrainingConfig cfg = new TrainingConfig(2, 8, 1e-2, 32, 0.1, 0.01, 2, null, 0, 0, false, 1.0, null, 9);
        List<Double> uninterrupted;
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            var trainer = new ClassificationTrainer(ClassificationModel.create(TestModels.tiny(m, 1), method, LABELS, Pooling.MEAN, m, 11),
                    tok, cfg, m);
            uninterrupted = trainer.train(train, null, null, null, TrainingListener.NONE).losses();
        }
        List<Double> resumed = new ArrayList<>();
        Path ckpts = dir.resolve("ckpt");
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            var trainer = new ClassificationTrainer(ClassificationModel.create(TestModels.tiny(m, 1), method, LABELS, Pooling.MEAN, m, 11),
                    tok, cfg, m);
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
            resumed.addAll(trainer.train(train, null, ckpts, null, stopAfter2).losses());
        }
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 32, 0)) {
            // a fresh process: new backbone and a differently seeded method, all replaced by the checkpoint
            ClassificationModel fresh = ClassificationModel.create(TestModels.tiny(m, 1), method, LABELS, Pooling.MEAN, m, 99);
            var trainer = new ClassificationTrainer(fresh, tok, cfg, m);
            resumed.addAll(trainer.train(train, null, null, Checkpoint.read(ckpts.resolve("checkpoint-2")), TrainingListener.NONE).losses());
        }
        // one intra-op thread (surefire config): the curves agree exactly
        assertEquals(uninterrupted, resumed, method.toString());
    }
}
