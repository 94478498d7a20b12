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
        assertTrue(check(Task.SFT, "qwen2").isEmpty());
        assertTrue(check(Task.CONTINUED_PRETRAINING, "mistral").isEmpty());
        assertTrue(check(Task.CLASSIFICATION, "bert").isEmpty());
    }

    @Test
    void chatFilesNeedAModelWithAChatTemplate() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var chatFile = json.readTree("{\"id\":\"file-1\",\"task\":\"sft\",\"chat_examples\":3}");
        var plainFile = json.readTree("{\"id\":\"file-2\",\"task\":\"sft\"}");
        var withTemplate = json.readTree("{\"name\":\"qwen\",\"chat_template\":true}");
        var without = json.readTree("{\"name\":\"gpt\",\"chat_template\":false}");
        List<FieldError> errors = new ArrayList<>();
        JobService.checkChatData("training_file", chatFile, withTemplate, errors);
        JobService.checkChatData("training_file", plainFile, without, errors);
        assertTrue(errors.isEmpty(), errors.toString());
        JobService.checkChatData("validation_file", chatFile, without, errors);
        assertEquals(1, errors.size());
        assertEquals("validation_file", errors.get(0).field());
        assertTrue(errors.get(0).message().contains("3 chat conversation(s)") && errors.get(0).message().contains("'gpt'"),
                errors.get(0).message());
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
