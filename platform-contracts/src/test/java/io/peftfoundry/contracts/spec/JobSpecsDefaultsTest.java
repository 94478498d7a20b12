package io.peftfoundry.contracts.spec;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class JobSpecsDefaultsTest {

    @Test
    void minimalSpecGetsEveryDocumentedDefault() {
        JobSpec spec = JobSpecs.parse("{\"model\": \"minilm-l6-v2\", \"training_file\": \"file-abc\"}");

        assertEquals("minilm-l6-v2", spec.model());
        assertEquals("file-abc", spec.trainingFile());
        assertEquals(Task.CLASSIFICATION, spec.task());
        assertNull(spec.validationFile());
        assertEquals(42L, spec.seed());
        assertNull(spec.initAdapter());
        assertNull(spec.suffix());
        assertEquals(Map.of(), spec.metadata());
        assertEquals(Priority.NORMAL, spec.priority());

        MethodSpec method = spec.method();
        assertEquals(MethodType.LORA, method.type());
        assertEquals(new LoraSpec(8, 16.0, 0.05, List.of("query", "value"), false), method.lora());
        assertNull(method.adapter());
        assertNull(method.prefix());
        assertNull(method.prompt());
        assertNull(method.ia3());

        Hyperparameters h = spec.hyperparameters();
        assertEquals(new Hyperparameters(3, 16, 5e-4, 128, 0.06, 0.0, 1, null, 100, 200, Scheduler.LINEAR, 1.0, null,
                Precision.FP32, false, List.of("epochs", "batch_size", "learning_rate")),
                h);
    }

    @Test
    void explicitNullMeansDefault() {
        JobSpec spec = JobSpecs.parse("""
                {"model": "m", "training_file": "f", "task": null, "seed": null,
                 "hyperparameters": {"epochs": null}, "method": {"type": null, "lora": null}}
                """);
        assertEquals(Task.CLASSIFICATION, spec.task());
        assertEquals(42L, spec.seed());
        assertEquals(3, spec.hyperparameters().epochs());
        assertEquals(LoraSpec.defaults(), spec.method().lora());
    }

    @Test
    void priorityIsReadFromItsWireName() {
        assertEquals(Priority.HIGH, JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"priority\": \"high\"}")
                .priority());
        assertEquals(Priority.LOW, JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"priority\": \"low\"}")
                .priority());
        assertEquals(Priority.NORMAL, JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"priority\": null}")
                .priority());
    }

    @Test
    void eachMethodGetsItsOwnBlockWithDefaults() {
        assertEquals(new AdapterSpec(AdapterVariant.PFEIFFER, 16, "relu"),
                methodOf("{\"type\": \"adapter\"}").adapter());
        assertEquals(new PrefixSpec(20, 512), methodOf("{\"type\": \"prefix\"}").prefix());
        assertEquals(new PromptSpec(20, PromptInit.RANDOM), methodOf("{\"type\": \"prompt\"}").prompt());
        assertEquals(new Ia3Spec(List.of("key", "value", "output.dense"), List.of("output.dense")),
                methodOf("{\"type\": \"ia3\"}").ia3());
        MethodSpec full = methodOf("{\"type\": \"full\"}");
        assertNull(full.lora());
        assertNull(full.adapter());
    }

    @Test
    void ia3FeedforwardDefaultOnlyNamesTargetedModules() {
        Ia3Spec attentionOnly = methodOf("{\"type\": \"ia3\", \"ia3\": {\"target_modules\": [\"key\", \"value\"]}}").ia3();
        assertEquals(new Ia3Spec(List.of("key", "value"), List.of()), attentionOnly);
    }

    @Test
    void partialMethodBlockKeepsGivenValuesAndDefaultsTheRest() {
        LoraSpec lora = methodOf("{\"type\": \"lora\", \"lora\": {\"r\": 4, \"target_modules\": [\"query\"]}}").lora();
        assertEquals(new LoraSpec(4, 16.0, 0.05, List.of("query"), false), lora);
    }

    @Test
    void learningRateDefaultDependsOnTheMethod() {
        assertEquals(2e-5, hyperOf("full").learningRate());
        assertEquals(5e-4, hyperOf("lora").learningRate());
        assertEquals(5e-4, hyperOf("adapter").learningRate());
        assertEquals(3e-3, hyperOf("ia3").learningRate());
        assertEquals(1e-3, hyperOf("prefix").learningRate());
        assertEquals(3e-2, hyperOf("prompt").learningRate());
    }

    @Test
    void givenLearningRateWinsOverMethodDefault() {
        JobSpec spec = JobSpecs.parse("""
                {"model": "m", "training_file": "f", "method": {"type": "full"},
                 "hyperparameters": {"learning_rate": 1e-4}}""");
        assertEquals(1e-4, spec.hyperparameters().learningRate());
    }

    @Test
    void wholeNumberWrittenAsFloatIsAccepted() {
        JobSpec spec = JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"hyperparameters\": {\"epochs\": 2.0}}");
        assertEquals(2, spec.hyperparameters().epochs());
    }

    @Test
    void ofBuildsAValidDefaultSpec() {
        JobSpec spec = JobSpec.of("m", "f");
        assertEquals(JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\"}"), spec);
        assertEquals(List.of(), JobSpecs.validate(spec));
    }

    @Test
    void withDefaultsIsIdempotent() {
        JobSpec spec = JobSpec.of("m", "f");
        assertEquals(spec, spec.withDefaults());
        assertFalse(spec.hyperparameters().maxSteps() != null);
    }

    private static MethodSpec methodOf(String methodJson) {
        return JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"method\": " + methodJson + "}").method();
    }

    private static Hyperparameters hyperOf(String type) {
        return JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"method\": {\"type\": \"" + type + "\"}}")
                .hyperparameters();
    }
}
