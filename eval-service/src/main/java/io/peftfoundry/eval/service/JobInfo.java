package io.peftfoundry.eval.service;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the eval-service knows about a job: its tenant and the spec job-api queued (defaults filled in), as read
 * from {@code foundry.jobs.requested}.
 */
public record JobInfo(String jobId, String tenant, JsonNode spec) {

    public String model() {
        return spec.path("model").asText(null);
    }

    public String task() {
        return spec.path("task").asText("classification");
    }

    public String trainingFile() {
        return spec.path("training_file").asText(null);
    }

    public String validationFile() {
        JsonNode v = spec.get("validation_file");
        return v == null || v.isNull() ? null : v.asText();
    }

    public String methodType() {
        return spec.path("method").path("type").asText("lora");
    }

    public long seed() {
        return spec.path("seed").asLong(42);
    }

    public int maxSeqLength() {
        return spec.path("hyperparameters").path("max_seq_length").asInt(128);
    }

    public boolean isFull() {
        return "full".equals(methodType());
    }

    /** True for a job the eval-service submitted as a baseline. */
    public boolean isBaselineJob() {
        return "true".equals(spec.path("metadata").path("foundry_baseline").asText(null));
    }
}
