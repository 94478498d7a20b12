package io.peftfoundry.contracts.spec;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** "auto" in the job spec and the rule that turns it into numbers (see {@link AutoHyperparameters}). */
class AutoHyperparametersTest {

    private static JobSpec parse(String hyperparameters) {
        return JobSpecs.parse("{\"model\":\"m\",\"training_file\":\"file-1\",\"method\":{\"type\":\"lora\"},"
                + "\"hyperparameters\":" + hyperparameters + "}");
    }

    @Test
    void leftOutAndAutoTextAreBothAutoAndExplicitValuesAreNot() {
        Hyperparameters h = parse("{\"epochs\":\"auto\",\"batch_size\":4}").hyperparameters();
        assertEquals(List.of("epochs", "learning_rate"), h.auto());
        assertEquals(4, h.batchSize());
        // before resolution the static defaults stand in
        assertEquals(Hyperparameters.DEFAULT_EPOCHS, h.epochs());
    }

    /**
     * 200 examples: batch = largest power of two ≤ 20 → 16; epochs = ⌈150·16/200⌉ = 12 (≥ 3, ≤ 30, budget
     * 50,000/200 = 250). 20,000 examples: batch 16; ⌈150·16/20,000⌉ = 1 → raised to 3, then capped by the budget
     * ⌊50,000/20,000⌋ = 2.
     */
    @Test
    void autoPicksMoreEpochsFor200ExamplesThanFor20000() {
        JobSpec spec = parse("{}");
        Hyperparameters small = AutoHyperparameters.resolve(spec, 200).hyperparameters();
        Hyperparameters large = AutoHyperparameters.resolve(spec, 20_000).hyperparameters();
        assertEquals(16, small.batchSize());
        assertEquals(12, small.epochs());
        assertEquals(2, large.epochs());
        assertTrue(small.epochs() > large.epochs());
        assertEquals(List.of("epochs", "batch_size", "learning_rate"), small.auto(), "the chosen fields stay listed");
    }

    /** 20 examples: batch 2 (≤ 20/10), epochs ⌈150·2/20⌉ = 15, LoRA's 5e-4 scaled by √(2/16). */
    @Test
    void tinySetGetsSmallBatchesManyEpochsAndAScaledLearningRate() {
        Hyperparameters h = AutoHyperparameters.resolve(parse("{}"), 20).hyperparameters();
        assertEquals(2, h.batchSize());
        assertEquals(15, h.epochs());
        assertEquals(5e-4 * Math.sqrt(2 / 16.0), h.learningRate(), 1e-15);
    }

    @Test
    void explicitValuesAreKept() {
        JobSpec spec = parse("{\"epochs\":1,\"batch_size\":32,\"learning_rate\":0.01}");
        assertNull(spec.hyperparameters().auto().isEmpty() ? null : spec.hyperparameters().auto());
        assertEquals(spec, AutoHyperparameters.resolve(spec, 200));
    }

    /** A resolved spec read again (the worker, eval-service) keeps its numbers and its auto list. */
    @Test
    void resolvedSpecRoundTripsThroughJson() {
        JobSpec resolved = AutoHyperparameters.resolve(parse("{}"), 200);
        assertEquals(resolved, JobSpecs.parse(JobSpecs.toJson(resolved)));
    }

    @Test
    void unknownAutoFieldIsRefusedNamingIt() {
        SpecValidationException e = org.junit.jupiter.api.Assertions.assertThrows(SpecValidationException.class,
                () -> parse("{\"auto\":[\"epochs\",\"seed\"]}"));
        assertEquals("hyperparameters.auto[1]", e.errors().get(0).field());
    }

    @Test
    void otherTextThanAutoIsRefused() {
        SpecValidationException e = org.junit.jupiter.api.Assertions.assertThrows(SpecValidationException.class,
                () -> parse("{\"epochs\":\"many\"}"));
        assertEquals("hyperparameters.epochs", e.errors().get(0).field());
    }
}
