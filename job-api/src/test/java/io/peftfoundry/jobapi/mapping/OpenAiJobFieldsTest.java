package io.peftfoundry.jobapi.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.contracts.spec.MethodType;
import io.peftfoundry.contracts.spec.SpecValidationException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenAI's request fields with the same meaning as ours, mapped onto our spec; the others refused by name. */
class OpenAiJobFieldsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static OpenAiJobFields.Mapped map(String body) throws Exception {
        return OpenAiJobFields.map(JSON.readTree(body));
    }

    private static List<String> fields(List<FieldError> errors) {
        return errors.stream().map(FieldError::field).toList();
    }

    @Test
    void supervisedWithItsHyperparametersBecomesLoraWithEpochsBatchAndAScaledLearningRate() throws Exception {
        OpenAiJobFields.Mapped m = map("""
                {"model": "m", "training_file": "f", "method": {"type": "supervised", "supervised": {"hyperparameters":
                  {"n_epochs": 4, "batch_size": 8, "learning_rate_multiplier": 2}}}}""");
        assertTrue(m.errors().isEmpty(), m.errors().toString());
        assertTrue(m.changed() && m.taskFromModel(), "no task given: it follows the model");
        JobSpec spec = JobSpecs.parse(m.spec());
        assertEquals(MethodType.LORA, spec.method().type());
        assertEquals(4, spec.hyperparameters().epochs());
        assertEquals(8, spec.hyperparameters().batchSize());
        // multiplier 2 × LoRA's default 5e-4
        assertEquals(1e-3, spec.hyperparameters().learningRate(), 1e-15);
        assertFalse(spec.hyperparameters().isAuto("epochs") || spec.hyperparameters().isAuto("batch_size")
                || spec.hyperparameters().isAuto("learning_rate"), spec.hyperparameters().toString());
    }

    @Test
    void autoStaysAutoAndAnExplicitTaskIsKept() throws Exception {
        OpenAiJobFields.Mapped m = map("""
                {"model": "m", "training_file": "f", "task": "sft", "method": {"type": "supervised", "supervised":
                  {"hyperparameters": {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}}}}""");
        assertFalse(m.taskFromModel());
        JobSpec spec = JobSpecs.parse(m.spec());
        assertEquals("sft", spec.task().wire());
        assertEquals(List.of("epochs", "batch_size", "learning_rate"), spec.hyperparameters().auto());
    }

    @Test
    void theOlderTopLevelFormMapsNEpochsAndTheMultiplierOnTheGivenMethod() throws Exception {
        OpenAiJobFields.Mapped m = map("""
                {"model": "m", "training_file": "f", "method": {"type": "full"},
                 "hyperparameters": {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 0.5}}""");
        assertTrue(m.errors().isEmpty(), m.errors().toString());
        JobSpec spec = JobSpecs.parse(m.spec());
        assertEquals(2, spec.hyperparameters().epochs());
        assertEquals(4, spec.hyperparameters().batchSize());
        // 0.5 × full fine-tuning's default 2e-5
        assertEquals(1e-5, spec.hyperparameters().learningRate(), 1e-15);
        assertFalse(m.taskFromModel(), "not supervised: the task keeps our default");
    }

    @Test
    void aBodyInOurShapeIsLeftAsItIs() throws Exception {
        String ours = """
                {"model": "m", "training_file": "f", "method": {"type": "lora"}, "hyperparameters": {"epochs": 2}}""";
        OpenAiJobFields.Mapped m = map(ours);
        assertFalse(m.changed());
        assertEquals(JSON.readTree(ours), m.spec());
    }

    @Test
    void aValueOurSpecRefusesIsReportedUnderTheOpenAiNameTheCallerSent() throws Exception {
        OpenAiJobFields.Mapped top = map("""
                {"model": "m", "training_file": "f", "hyperparameters": {"n_epochs": 0}}""");
        SpecValidationException e = assertThrows(SpecValidationException.class, () -> JobSpecs.parse(top.spec()));
        assertEquals(List.of("hyperparameters.n_epochs"), fields(top.rename(e.errors())));
        OpenAiJobFields.Mapped nested = map("""
                {"model": "m", "training_file": "f", "method": {"type": "supervised",
                  "supervised": {"hyperparameters": {"batch_size": 0}}}}""");
        e = assertThrows(SpecValidationException.class, () -> JobSpecs.parse(nested.spec()));
        assertEquals(List.of("method.supervised.hyperparameters.batch_size"), fields(nested.rename(e.errors())));
    }

    @Test
    void whatHasNoEquivalentOrIsSetTwiceIsRefusedNamingTheField() throws Exception {
        assertEquals(List.of("method.type"), fields(map("""
                {"model": "m", "training_file": "f", "method": {"type": "dpo", "dpo": {}}}""").errors()));
        assertEquals(List.of("method.type"), fields(map("""
                {"model": "m", "training_file": "f", "task": "continued_pretraining",
                 "method": {"type": "supervised"}}""").errors()));
        assertEquals(List.of("method.supervised.hyperparameters.beta"), fields(map("""
                {"model": "m", "training_file": "f", "method": {"type": "supervised",
                  "supervised": {"hyperparameters": {"beta": 0.1}}}}""").errors()));
        assertEquals(List.of("method.lora"), fields(map("""
                {"model": "m", "training_file": "f", "method": {"type": "supervised", "lora": {"r": 4}}}""").errors()));
        assertEquals(List.of("hyperparameters.n_epochs"), fields(map("""
                {"model": "m", "training_file": "f", "hyperparameters": {"n_epochs": 2, "epochs": 3}}""").errors()));
        assertEquals(List.of("method.supervised.hyperparameters.batch_size"), fields(map("""
                {"model": "m", "training_file": "f", "hyperparameters": {"batch_size": 4},
                 "method": {"type": "supervised", "supervised": {"hyperparameters": {"batch_size": 8}}}}""").errors()));
        assertEquals(List.of("hyperparameters.learning_rate_multiplier"), fields(map("""
                {"model": "m", "training_file": "f", "hyperparameters": {"learning_rate_multiplier": -1}}""").errors()));
    }
}
