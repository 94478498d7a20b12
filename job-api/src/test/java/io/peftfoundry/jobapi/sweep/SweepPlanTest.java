package io.peftfoundry.jobapi.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.spec.SpecValidationException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A sweep request expanded into its children's specs (no I/O). */
class SweepPlanTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASE = "{\"model\":\"m\",\"training_file\":\"file-t\",\"validation_file\":\"file-v\"}";

    private static SweepPlan.Plan plan(String rest) throws Exception {
        return SweepPlan.of(JSON.readTree("{\"base\":" + BASE + "," + rest + "}"));
    }

    /** 3 methods × 2 learning rates = 6 children, grid order: the first dimension varies slowest. */
    @Test
    void gridIsTheCartesianProductInKeyOrder() throws Exception {
        SweepPlan.Plan p = plan("\"grid\":{\"method\":[{\"type\":\"lora\"},{\"type\":\"ia3\"},{\"type\":\"prompt\"}],"
                + "\"hyperparameters.learning_rate\":[0.001,0.01]}");
        assertEquals(6, p.trials().size());
        assertEquals("lora", p.trials().get(0).spec().path("method").path("type").asText());
        assertEquals(0.001, p.trials().get(0).spec().path("hyperparameters").path("learning_rate").asDouble());
        assertEquals(0.01, p.trials().get(1).spec().path("hyperparameters").path("learning_rate").asDouble());
        assertEquals("prompt", p.trials().get(5).spec().path("method").path("type").asText());
        assertEquals("accuracy", p.metric(), "classification sweeps rank by accuracy unless told");
        assertTrue(p.higherIsBetter());
        assertTrue(p.earlyStopping(), "on by default when the base has a validation file");
    }

    /** A LoRA rank means nothing to IA3: 2 LoRA children with their ranks, 1 IA3 child (not 2 equal ones). */
    @Test
    void blockDimensionAppliesOnlyToItsMethodAndEqualChildrenAreKeptOnce() throws Exception {
        SweepPlan.Plan p = plan("\"grid\":{\"method\":[{\"type\":\"lora\"},{\"type\":\"ia3\"}],\"method.lora.r\":[4,16]}");
        assertEquals(3, p.trials().size());
        assertEquals(4, p.trials().get(0).spec().path("method").path("lora").path("r").asInt());
        assertEquals(16, p.trials().get(1).spec().path("method").path("lora").path("r").asInt());
        assertEquals("ia3", p.trials().get(2).spec().path("method").path("type").asText());
        assertFalse(p.trials().get(2).spec().path("method").has("lora"));
    }

    @Test
    void randomSearchIsReproducibleFromItsSeedAndStaysInItsRanges() throws Exception {
        String body = "\"random\":{\"hyperparameters.learning_rate\":{\"log_uniform\":[1e-5,1e-2]},"
                + "\"hyperparameters.epochs\":{\"int_uniform\":[1,5]},\"method.lora.r\":[4,8,16]},\"trials\":8,\"seed\":7";
        SweepPlan.Plan a = plan(body);
        SweepPlan.Plan b = plan(body);
        assertEquals(a.trials().stream().map(t -> t.spec().toString()).toList(),
                b.trials().stream().map(t -> t.spec().toString()).toList());
        for (SweepPlan.Trial t : a.trials()) {
            JsonNode h = t.spec().path("hyperparameters");
            assertTrue(h.path("learning_rate").asDouble() >= 1e-5 && h.path("learning_rate").asDouble() <= 1e-2);
            assertTrue(h.path("epochs").asInt() >= 1 && h.path("epochs").asInt() <= 5);
            assertTrue(List.of(4, 8, 16).contains(t.spec().path("method").path("lora").path("r").asInt()));
        }
        assertFalse(plan(body.replace("\"seed\":7", "\"seed\":8")).trials().stream().map(t -> t.spec().toString())
                .toList().equals(a.trials().stream().map(t -> t.spec().toString()).toList()), "another seed, other draws");
    }

    @Test
    void childThatIsNotAValidSpecIsRefusedNamingTrialAndField() {
        SpecValidationException e = assertThrows(SpecValidationException.class,
                () -> plan("\"grid\":{\"hyperparameters.learning_rate\":[0.001,5]}"));
        assertEquals("trials[1].hyperparameters.learning_rate", e.errors().get(0).field());
    }

    @Test
    void gridAndRandomTogetherOrNeitherAreRefused() {
        assertThrows(SpecValidationException.class, () -> plan("\"grid\":{\"seed\":[1]},\"random\":{\"seed\":[1]},\"trials\":1"));
        assertThrows(SpecValidationException.class, () -> SweepPlan.of(JSON.readTree("{\"base\":" + BASE + "}")));
    }

    @Test
    void dimensionOutsideMethodHyperparametersAndSeedIsRefused() {
        SpecValidationException e = assertThrows(SpecValidationException.class,
                () -> plan("\"grid\":{\"model\":[\"a\",\"b\"]}"));
        assertEquals("grid.model", e.errors().get(0).field());
    }

    @Test
    void gridOverSixtyFourChildrenIsRefused() {
        SpecValidationException e = assertThrows(SpecValidationException.class,
                () -> plan("\"grid\":{\"seed\":[1,2,3,4,5,6,7,8,9],\"hyperparameters.epochs\":[1,2,3,4,5,6,7,8]}"));
        assertEquals("grid", e.errors().get(0).field());
    }

    @Test
    void badBaseIsReportedUnderBase() {
        SpecValidationException e = assertThrows(SpecValidationException.class, () -> SweepPlan.of(JSON.readTree(
                "{\"base\":{\"model\":\"m\"},\"grid\":{\"seed\":[1,2]}}")));
        assertEquals("base.training_file", e.errors().get(0).field());
    }
}
