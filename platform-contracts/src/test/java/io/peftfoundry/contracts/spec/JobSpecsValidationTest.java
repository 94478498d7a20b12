package io.peftfoundry.contracts.spec;

import io.peftfoundry.contracts.FieldError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobSpecsValidationTest {

    private static final String BASE = "\"model\": \"m\", \"training_file\": \"f\"";

    /** Each row: JSON members added to a valid spec | the one field that must be named | part of its message. */
    @ParameterizedTest(name = "{1}: {0}")
    @CsvSource(delimiter = '|', textBlock = """
            "hyperparameters": {"epochs": 0}                          | hyperparameters.epochs                      | must be between 1 and 1000, got 0
            "hyperparameters": {"epochs": 10000}                      | hyperparameters.epochs                      | must be between 1 and 1000, got 10000
            "hyperparameters": {"batch_size": 0}                      | hyperparameters.batch_size                  | must be between 1 and 4096, got 0
            "hyperparameters": {"learning_rate": 0}                   | hyperparameters.learning_rate               | must be > 0 and ≤ 1, got 0.0
            "hyperparameters": {"learning_rate": -1e-4}               | hyperparameters.learning_rate               | must be > 0 and ≤ 1, got -1.0E-4
            "hyperparameters": {"learning_rate": 5.0}                 | hyperparameters.learning_rate               | must be > 0 and ≤ 1, got 5.0
            "hyperparameters": {"max_seq_length": 1}                  | hyperparameters.max_seq_length              | must be between 2 and 16384, got 1
            "hyperparameters": {"warmup_ratio": 1.0}                  | hyperparameters.warmup_ratio                | must be ≥ 0 and < 1, got 1.0
            "hyperparameters": {"weight_decay": -0.1}                 | hyperparameters.weight_decay                | must be ≥ 0 and ≤ 1, got -0.1
            "hyperparameters": {"gradient_accumulation_steps": 0}     | hyperparameters.gradient_accumulation_steps | must be between 1 and 1024, got 0
            "hyperparameters": {"max_steps": 0}                       | hyperparameters.max_steps                   | must be between 1 and 10000000, got 0
            "hyperparameters": {"eval_every_steps": -1}               | hyperparameters.eval_every_steps            | must be between 0 and 10000000, got -1
            "hyperparameters": {"checkpoint_every_steps": -5}         | hyperparameters.checkpoint_every_steps      | must be between 0 and 10000000, got -5
            "hyperparameters": {"max_grad_norm": -1}                  | hyperparameters.max_grad_norm               | must be ≥ 0 and ≤ 1000
            "hyperparameters": {"early_stopping_patience": 2}         | hyperparameters.early_stopping_patience     | needs a validation_file
            "hyperparameters": {"scheduler": "step"}                  | hyperparameters.scheduler                   | must be one of linear, cosine, got "step"
            "hyperparameters": {"precision": "fp8"}                   | hyperparameters.precision                   | must be one of fp32, fp16, bf16, got "fp8"
            "method": {"type": "full"}, "hyperparameters": {"precision": "fp16"} | hyperparameters.precision       | "fp16" holds the frozen backbone in float16; method.type "full" trains every weight, which must stay float32
            "method": {"type": "full"}, "hyperparameters": {"precision": "bf16"} | hyperparameters.precision       | "bf16" holds the frozen backbone in bfloat16; method.type "full" trains every weight, which must stay float32
            "hyperparameters": {"gradient_checkpointing": "yes"}      | hyperparameters.gradient_checkpointing      | must be true or false, got "yes"
            "hyperparameters": {"gradient_checkpointing": 1}          | hyperparameters.gradient_checkpointing      | must be true or false, got 1
            "task": "classification", "hyperparameters": {"gradient_checkpointing": true} | hyperparameters.gradient_checkpointing | task "classification" does not support it
            "hyperparameters": {"gradientCheckpointing": true}        | hyperparameters.gradientCheckpointing       | unknown field; allowed here: epochs, batch_size
            "hyperparameters": {"epochs": "three"}                    | hyperparameters.epochs                      | must be a whole number, got "three"
            "hyperparameters": {"epochs": 2.5}                        | hyperparameters.epochs                      | must be a whole number, got 2.5
            "hyperparameters": {"epochs": 99999999999}                | hyperparameters.epochs                      | is out of range, got 99999999999
            "hyperparameters": {"learning_rate": "fast"}              | hyperparameters.learning_rate               | must be a number, got "fast"
            "hyperparameters": [1, 2]                                 | hyperparameters                             | must be an object, got an array
            "hyperparameters": {"epoch": 3}                           | hyperparameters.epoch                       | unknown field; allowed here: epochs, batch_size
            "method": {"type": "lora", "lora": {"r": 0}}              | method.lora.r                               | must be between 1 and 512, got 0
            "method": {"type": "lora", "lora": {"r": 1024}}           | method.lora.r                               | must be between 1 and 512, got 1024
            "method": {"lora": {"alpha": 0}}                          | method.lora.alpha                           | must be > 0 and ≤ 4096, got 0.0
            "method": {"lora": {"dropout": 1}}                        | method.lora.dropout                         | must be ≥ 0 and < 1, got 1.0
            "method": {"lora": {"target_modules": []}}                | method.lora.target_modules                  | must name at least one module
            "method": {"lora": {"target_modules": ["query", ""]}}     | method.lora.target_modules[1]               | must be a module name
            "method": {"lora": {"target_modules": ["query", 7]}}      | method.lora.target_modules[1]               | must be a string, got 7
            "method": {"lora": {"target_modules": ["query", "query"]}} | method.lora.target_modules[1]              | "query" is listed twice
            "method": {"lora": {"target_modules": "query"}}           | method.lora.target_modules                  | must be an array of strings, got "query"
            "method": {"lora": {"use_rslora": "yes"}}                 | method.lora.use_rslora                      | must be true or false, got "yes"
            "method": {"lora": {"rank": 8}}                           | method.lora.rank                            | unknown field; allowed here: r, alpha, dropout, target_modules, use_rslora
            "method": {"type": "lora", "adapter": {}}                 | method.adapter                              | only allowed when method.type is "adapter"; this job's method.type is "lora"
            "method": {"type": "full", "lora": {"r": 8}}              | method.lora                                 | only allowed when method.type is "lora"; this job's method.type is "full"
            "method": {"adapter": {"variant": "houlsby"}}             | method.adapter                              | only allowed when method.type is "adapter"; this job's method.type is "lora"
            "method": {"type": "adapter", "adapter": {"variant": "x"}} | method.adapter.variant                     | must be one of houlsby, pfeiffer, parallel, got "x"
            "method": {"type": "adapter", "adapter": {"reduction_factor": 0}} | method.adapter.reduction_factor     | must be between 1 and 1024, got 0
            "method": {"type": "adapter", "adapter": {"activation": "softmax"}} | method.adapter.activation         | must be one of relu, gelu, silu, swish, tanh, got "softmax"
            "method": {"type": "prefix", "prefix": {"num_virtual_tokens": 0}} | method.prefix.num_virtual_tokens    | must be between 1 and 512, got 0
            "method": {"type": "prefix", "prefix": {"projection_hidden_size": -1}} | method.prefix.projection_hidden_size | must be between 0 and 8192, got -1
            "method": {"type": "prompt", "prompt": {"num_virtual_tokens": 513}} | method.prompt.num_virtual_tokens  | must be between 1 and 512, got 513
            "method": {"type": "prompt", "prompt": {"init": "zeros"}} | method.prompt.init                          | must be one of random, vocab, got "zeros"
            "method": {"type": "ia3", "ia3": {"target_modules": []}}  | method.ia3.target_modules                   | must name at least one module
            "method": {"type": "ia3", "ia3": {"feedforward_modules": ["intermediate.dense"]}} | method.ia3.feedforward_modules[0] | "intermediate.dense" must also be listed in method.ia3.target_modules
            "method": {"type": "qlora"}                               | method.type                                 | must be one of lora, adapter, prefix, prompt, ia3, full, got "qlora"
            "method": "lora"                                          | method                                      | must be an object, got "lora"
            "method": {"type": "full"}, "init_adapter": "adapter-1"   | init_adapter                                | must be null when method.type is "full"
            "task": "regression"                                      | task                                        | must be one of classification, sft, continued_pretraining, got "regression"
            "task": 1                                                 | task                                        | must be one of classification, sft, continued_pretraining, got 1
            "seed": -1                                                | seed                                        | must be between 0 and 4294967295, got -1
            "seed": "42"                                              | seed                                        | must be a whole number, got "42"
            "suffix": "has spaces"                                    | suffix                                      | must be 1–64 characters of letters, digits
            "validation_file": ""                                     | validation_file                             | must not be blank
            "validation_file": 5                                      | validation_file                             | must be a string, got 5
            "metadata": {"team": 5}                                   | metadata.team                               | must be a string, got 5
            "metadata": ["team"]                                      | metadata                                    | must be an object of string values, got an array
            "priority": "urgent"                                      | priority                                    | must be one of high, normal, low, got "urgent"
            "priority": 1                                             | priority                                    | must be one of high, normal, low, got 1
            "learning_rate": 1e-4                                     | learning_rate                               | unknown field; allowed here: model, task, training_file
            """)
    void ruleNamesItsField(String members, String field, String message) {
        List<FieldError> errors = errorsOf("{" + BASE + ", " + members + "}");
        assertEquals(1, errors.size(), () -> "expected one error, got " + errors);
        assertEquals(field, errors.get(0).field());
        assertTrue(errors.get(0).message().contains(message),
                () -> "message of " + field + " was: " + errors.get(0).message());
    }

    @Test
    void modelAndTrainingFileAreRequired() {
        List<FieldError> errors = errorsOf("{}");
        assertEquals(List.of(new FieldError("model", "is required"), new FieldError("training_file", "is required")),
                errors);
    }

    @Test
    void wrongTypeOfRequiredFieldIsReportedOnce() {
        List<FieldError> errors = errorsOf("{\"model\": 3, \"training_file\": \"f\"}");
        assertEquals(List.of(new FieldError("model", "must be a string, got 3")), errors);
    }

    @Test
    void allProblemsAreReportedTogether() {
        List<FieldError> errors = errorsOf("""
                {"model": "m", "colour": "red",
                 "method": {"type": "lora", "lora": {"r": 0, "dropout": 2}},
                 "hyperparameters": {"epochs": 0, "batch_size": 0, "learning_rate": 5.0}}""");
        List<String> fields = errors.stream().map(FieldError::field).collect(Collectors.toList());
        assertEquals(List.of("colour", "training_file", "method.lora.r", "method.lora.dropout",
                "hyperparameters.epochs", "hyperparameters.batch_size", "hyperparameters.learning_rate"), fields);
    }

    @Test
    void exceptionMessageListsEveryProblemWithItsField() {
        SpecValidationException e = assertThrows(SpecValidationException.class,
                () -> JobSpecs.parse("{" + BASE + ", \"hyperparameters\": {\"learning_rate\": 5.0, \"epochs\": 0}}"));
        assertEquals("invalid job spec: hyperparameters.epochs: must be between 1 and 1000, got 0; "
                + "hyperparameters.learning_rate: must be > 0 and ≤ 1, got 5.0", e.getMessage());
    }

    @Test
    void malformedJsonSaysWhere() {
        List<FieldError> errors = errorsOf("{\"model\": \"m\",\n \"training_file\": }");
        assertEquals(1, errors.size());
        assertEquals("", errors.get(0).field());
        assertTrue(errors.get(0).message().startsWith("the job spec is not valid JSON (line 2, column "),
                errors.get(0).message());
    }

    @Test
    void duplicateFieldIsRejected() {
        List<FieldError> errors = errorsOf("{\"model\": \"a\", \"model\": \"b\", \"training_file\": \"f\"}");
        assertEquals(1, errors.size());
        assertTrue(errors.get(0).message().contains("Duplicate field 'model'"), errors.get(0).message());
    }

    @Test
    void rootMustBeAnObject() {
        assertEquals(List.of(new FieldError("", "the job spec must be a JSON object, got an array")), errorsOf("[]"));
    }

    @Test
    void requireValidChecksSpecsBuiltInCode() {
        JobSpec spec = JobSpec.of("m", "f").withHyperparameters(
                new Hyperparameters(0, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                        null));
        SpecValidationException e = assertThrows(SpecValidationException.class, () -> JobSpecs.requireValid(spec));
        assertEquals(List.of(new FieldError("hyperparameters.epochs", "must be between 1 and 1000, got 0")),
                e.errors());
    }

    @Test
    void validateAcceptsBoundaryValues() {
        JobSpec spec = JobSpecs.parse("""
                {"model": "m", "training_file": "f", "validation_file": "v", "seed": 4294967295,
                 "method": {"type": "lora", "lora": {"r": 512, "alpha": 4096, "dropout": 0}},
                 "hyperparameters": {"epochs": 1000, "batch_size": 1, "learning_rate": 1, "warmup_ratio": 0,
                   "max_steps": 1, "eval_every_steps": 0, "checkpoint_every_steps": 0, "max_grad_norm": 0,
                   "early_stopping_patience": 1}}""");
        assertEquals(List.of(), JobSpecs.validate(spec));
    }

    private static List<FieldError> errorsOf(String json) {
        return assertThrows(SpecValidationException.class, () -> JobSpecs.parse(json)).errors();
    }
}
