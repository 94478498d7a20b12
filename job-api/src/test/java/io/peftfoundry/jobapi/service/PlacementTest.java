package io.peftfoundry.jobapi.service;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.resources.ModelShape;
import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which field a refusal names, and when nothing is refused. */
class PlacementTest {

    private static final ModelShape MINILM = new ModelShape("bert", 22_713_216, 384, 6, 12, 1536, 30522);
    private static final long GIB = 1L << 30;

    private static WorkerCapabilities worker(String id, long memory, String... families) {
        return new WorkerCapabilities(id, "cpu", memory, List.of(families), "up", Instant.EPOCH);
    }

    private static JobSpec spec(String method, int batch) {
        return JobSpecs.parse("""
                {"model": "m", "training_file": "f", "method": {"type": "%s"},
                 "hyperparameters": {"batch_size": %d, "max_seq_length": 128}}""".formatted(method, batch));
    }

    private static List<FieldError> refusals(JobSpec spec, List<WorkerCapabilities> live) {
        return Placement.refusals(spec, Placement.needs(spec, "bert", Optional.of(MINILM)), live);
    }

    @Test
    void aFamilyNoWorkerLoadsIsRefusedNamingTheModel() {
        List<FieldError> e = refusals(spec("lora", 16), List.of(worker("w1", 8 * GIB, "gpt2", "llama")));
        assertEquals("model", e.get(0).field());
        assertTrue(e.get(0).message().contains("no trainer worker loads 'bert' models"), e.get(0).message());
    }

    @Test
    void tooLittleMemoryEvenAtBatchOneNamesTheMethodForAFullFineTuneAndTheModelOtherwise() {
        // weights alone are 87 MiB, plus the 192 MiB workspace: a 200 MiB worker holds no batch at all
        List<WorkerCapabilities> tiny = List.of(worker("w1", 200L << 20, "bert"));
        assertEquals("method", refusals(spec("full", 16), tiny).get(0).field());
        assertEquals("model", refusals(spec("lora", 16), tiny).get(0).field());
    }

    @Test
    void nothingIsRefusedWhenAWorkerHoldsItOrNoWorkerIsKnown() {
        assertTrue(refusals(spec("lora", 16), List.of(worker("w1", 4 * GIB, "bert"))).isEmpty());
        assertTrue(refusals(spec("full", 4096), List.of()).isEmpty(), "no worker heard from: the fleet is unknown");
        JobSpec unknownShape = spec("lora", 4096);
        assertTrue(Placement.refusals(unknownShape, Placement.needs(unknownShape, "bert", Optional.empty()),
                List.of(worker("w1", 1, "bert"))).isEmpty(), "a model without sizes has no estimate to refuse on");
    }
}
