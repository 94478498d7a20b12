package io.peftfoundry.eval.serving;

import ai.djl.ndarray.NDManager;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.TrainingConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two LoRA adapters trained here on one tiny random BERT, served from one loaded backbone: every answer equals what
 * peft-engine predicts after loading that adapter alone on a fresh backbone. Inputs are batched the same way on both
 * sides and the tests run with one intra-op thread, so the same float32 operations run on the same values; the
 * 1e-6 tolerance only leaves room for a different kernel choice.
 */
class PredictionServiceTest {

    private static final double TOLERANCE = 1e-6;
    private static final List<String> INPUTS = List.of("the movie was great", "awful food", "a dog sat on the mat",
            "very poor day", "fine");

    @TempDir
    static Path tmp;
    static Path backbone;
    static Path adapterA;
    static Path adapterB;
    static ModelSource source;

    @BeforeAll
    static void train() throws IOException {
        backbone = TinyModels.backbone(tmp.resolve("backbone"), 7);
        adapterA = TinyModels.trainAdapter(backbone, new LoraConfig(4, 8, 0.0, List.of("query", "value"), false), 1,
                tmp.resolve("a"));
        adapterB = TinyModels.trainAdapter(backbone, new LoraConfig(2, 4, 0.0, List.of("key", "dense"), false), 2,
                tmp.resolve("b"));
        source = new ModelSource() {
            @Override
            public Path backbone(String model) {
                return backbone;
            }

            @Override
            public Path adapter(String adapterId) {
                return "a".equals(adapterId) ? adapterA : adapterB;
            }
        };
    }


    /** peft-engine's own prediction: a fresh backbone, the adapter loaded on it, {@code predict}. */
    private static float[][] reference(Path adapterDir) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             TextTokenizer tok = new TextTokenizer(backbone.resolve("tokenizer.json"), TinyModels.MAX_SEQ, 0)) {
            ClassificationModel model = AdapterFiles.load(adapterDir, BertCheckpoint.load(backbone, m), m);
            return new ClassificationTrainer(model, tok, TrainingConfig.defaults(1e-3, 0), m)
                    .predict(INPUTS.stream().map(t -> new Example(t, null, null)).toList());
        }
    }

    private static void assertSame(float[][] expected, List<PredictionService.Prediction> actual) {
        assertEquals(expected.length, actual.size());
        for (int i = 0; i < expected.length; i++) {
            Map<String, Double> scores = actual.get(i).scores();
            assertEquals(expected[i][0], scores.get("neg"), TOLERANCE, "input " + i + " neg");
            assertEquals(expected[i][1], scores.get("pos"), TOLERANCE, "input " + i + " pos");
            String label = expected[i][1] > expected[i][0] ? "pos" : "neg";
            assertEquals(label, actual.get(i).label(), "input " + i);
        }
    }

    @Test
    void twoAdaptersOnOneBackboneAnswerAsTheirOwnFreshLoad() throws IOException {
        float[][] refA = reference(adapterA);
        float[][] refB = reference(adapterB);
        double apart = 0;
        for (int i = 0; i < refA.length; i++) {
            apart = Math.max(apart, Math.abs(refA[i][1] - refB[i][1]));
        }
        assertTrue(apart > 1e-3, "the two adapters must compute different functions, or this test proves nothing");

        try (PredictionService service = new PredictionService(source, Long.MAX_VALUE, TinyModels.MAX_SEQ)) {
            // interleaved: B's layers wrap its own view, so A still sees the untouched backbone afterwards
            assertSame(refA, service.predict("tiny", "a", INPUTS));
            assertSame(refB, service.predict("tiny", "b", INPUTS));
            assertSame(refA, service.predict("tiny", "a", INPUTS));
            assertEquals(1, service.backboneLoads(), "one backbone for both adapters");
            assertEquals(2, service.adapterLoads());
            assertEquals(2, service.loadedAdapters().size());
        }
    }

    @Test
    void leastRecentlyUsedAdapterIsEvictedBeyondTheBudget() throws IOException {
        long bytesA;
        long backboneBytes;
        long bytesB;
        try (ResidentSet resident = new ResidentSet(Long.MAX_VALUE);
             PredictionService probe = new PredictionService(source, resident, TinyModels.MAX_SEQ)) {
            probe.predict("tiny", "a", INPUTS);
            backboneBytes = new SharedBackbone(source.backbone("tiny")).bytesAndClose();
            bytesA = resident.residentBytes() - backboneBytes;
            probe.predict("tiny", "b", INPUTS);
            bytesB = resident.residentBytes() - backboneBytes - bytesA;
        }
        // LoRA A: r=4 on query and value of 2 layers: 2·2·(4·16 + 16·4) = 512 floats; head 2·16 + 2 = 34 floats
        assertEquals((512 + 34) * 4L, bytesA);
        float[][] refA = reference(adapterA);
        // room for the backbone and one adapter: loading B evicts A (not the backbone, B's parent), and A comes back
        // (loaded again) on its next request
        try (PredictionService service = new PredictionService(source, backboneBytes + Math.max(bytesA, bytesB),
                TinyModels.MAX_SEQ)) {
            service.predict("tiny", "a", INPUTS);
            service.predict("tiny", "b", INPUTS);
            assertEquals(1, service.loadedAdapters().size());
            assertTrue(service.loadedAdapters().get(0).endsWith(adapterB.toString()));
            assertSame(refA, service.predict("tiny", "a", INPUTS));
            assertEquals(3, service.adapterLoads());
            assertEquals(1, service.backboneLoads());
        }
    }

    @Test
    void anEncoderIsEvictedWhenItsAdaptersAreGoneAndLoadsAgain() throws IOException {
        float[][] refA = reference(adapterA);
        // a budget of one byte: after each answer nothing is leased, so adapter and backbone are both closed
        try (ResidentSet resident = new ResidentSet(1);
             PredictionService service = new PredictionService(source, resident, TinyModels.MAX_SEQ)) {
            assertSame(refA, service.predict("tiny", "a", INPUTS));
            assertEquals(List.of(), resident.keys());
            assertSame(refA, service.predict("tiny", "a", INPUTS));
            assertEquals(2, service.backboneLoads());
            assertEquals(4, resident.evictions());
        }
    }
}
