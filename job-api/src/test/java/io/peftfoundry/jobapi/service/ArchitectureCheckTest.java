package io.peftfoundry.jobapi.service;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.Task;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Causal tasks need a decoder model, classification an encoder; the error names the field "model". */
class ArchitectureCheckTest {

    private static List<FieldError> check(Task task, String modelType) {
        JobSpec spec = new JobSpec("m", task, "file-1", null, null, null, null, null, null, null).withDefaults();
        List<FieldError> errors = new ArrayList<>();
        JobService.checkArchitecture(spec, modelType, errors);
        return errors;
    }

    @Test
    void matchingArchitecturesPass() {
        assertTrue(check(Task.SFT, "gpt2").isEmpty());
        assertTrue(check(Task.CONTINUED_PRETRAINING, "gpt2").isEmpty());
        assertTrue(check(Task.SFT, "llama").isEmpty());
        assertTrue(check(Task.CLASSIFICATION, "bert").isEmpty());
    }

    @Test
    void aCausalTaskOnAnEncoderAndClassificationOnADecoderAreRefused() {
        List<FieldError> sftOnBert = check(Task.SFT, "bert");
        assertEquals(1, sftOnBert.size());
        assertEquals("model", sftOnBert.get(0).field());
        assertTrue(sftOnBert.get(0).message().contains("decoder"), sftOnBert.get(0).message());
        List<FieldError> clsOnGpt2 = check(Task.CLASSIFICATION, "gpt2");
        assertEquals("model", clsOnGpt2.get(0).field());
        assertTrue(clsOnGpt2.get(0).message().contains("sft"), clsOnGpt2.get(0).message());
    }
}
