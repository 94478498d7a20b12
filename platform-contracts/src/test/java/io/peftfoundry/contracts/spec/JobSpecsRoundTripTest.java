package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobSpecsRoundTripTest {

    /** The example of ARCHITECTURE.md, verbatim apart from the file ids. */
    static final String ARCHITECTURE_EXAMPLE = """
            {
              "model": "minilm-l6-v2",
              "task": "classification",
              "training_file": "file-train",
              "validation_file": "file-valid",
              "method": { "type": "lora", "lora": { "r": 8, "alpha": 16, "dropout": 0.05, "target_modules": ["query", "value"] } },
              "hyperparameters": { "epochs": 3, "batch_size": 16, "learning_rate": 5e-4, "max_seq_length": 128,
                                   "warmup_ratio": 0.06, "weight_decay": 0.0, "gradient_accumulation_steps": 1,
                                   "max_steps": null, "eval_every_steps": 100, "checkpoint_every_steps": 200 },
              "seed": 42,
              "init_adapter": null,
              "suffix": "support-intents",
              "metadata": { "team": "search" }
            }
            """;

    @Test
    void architectureExampleParses() {
        JobSpec spec = JobSpecs.parse(ARCHITECTURE_EXAMPLE);
        assertEquals("file-valid", spec.validationFile());
        assertEquals("support-intents", spec.suffix());
        assertEquals(Map.of("team", "search"), spec.metadata());
        assertEquals(8, spec.method().lora().r());
    }

    @Test
    void writeThenParseGivesTheSameSpec() {
        for (String method : List.of("lora", "adapter", "prefix", "prompt", "ia3", "full")) {
            JobSpec spec = JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"f\", \"validation_file\": \"v\","
                    + " \"task\": \"sft\", \"method\": {\"type\": \"" + method + "\"},"
                    + " \"hyperparameters\": {\"scheduler\": \"cosine\", \"early_stopping_patience\": 3}}");
            assertEquals(spec, JobSpecs.parse(JobSpecs.toJson(spec)), method);
        }
    }

    @Test
    void jsonIsSnakeCaseWithOnlyTheMatchingMethodBlock() {
        JsonNode tree = JobSpecs.toTree(JobSpecs.parse(ARCHITECTURE_EXAMPLE));
        assertTrue(tree.has("training_file"));
        assertTrue(tree.get("hyperparameters").has("gradient_accumulation_steps"));
        assertTrue(tree.get("hyperparameters").get("max_steps").isNull());
        assertEquals("lora", tree.get("method").get("type").textValue());
        assertEquals("classification", tree.get("task").textValue());
        assertTrue(tree.get("method").get("lora").has("target_modules"));
        assertFalse(tree.get("method").has("adapter"));
        assertEquals("linear", tree.get("hyperparameters").get("scheduler").textValue());
    }

    @Test
    void plainJacksonReadsWhatJobSpecsWrites() throws Exception {
        // services read specs embedded in events with their ObjectMapper, not with JobSpecs.parse
        ObjectMapper mapper = ContractsJson.newMapper();
        JobSpec spec = JobSpecs.parse(ARCHITECTURE_EXAMPLE);
        assertEquals(spec, mapper.readValue(JobSpecs.toJson(spec), JobSpec.class));
        assertEquals(spec, mapper.readValue(mapper.writeValueAsString(spec), JobSpec.class));
    }
}
