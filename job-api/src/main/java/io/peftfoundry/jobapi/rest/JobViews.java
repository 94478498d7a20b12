package io.peftfoundry.jobapi.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.jobapi.service.EventRow;
import io.peftfoundry.jobapi.service.JobEventService;
import io.peftfoundry.jobapi.service.JobRow;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/** JSON shapes of jobs, events and checkpoints (lists: service-support's Page) (after the OpenAI fine-tuning API; times in unix seconds). */
@ApplicationScoped
public class JobViews {

    private final ObjectMapper mapper;

    public JobViews(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public ObjectNode job(JobRow j) {
        JsonNode spec = tree(j.specJson());
        ObjectNode m = mapper.createObjectNode();
        m.put("id", j.id());
        m.put("object", "fine_tuning.job");
        m.put("status", j.status());
        m.set("model", spec.path("model"));
        m.set("task", spec.path("task"));
        m.set("method", spec.path("method"));
        m.set("hyperparameters", spec.path("hyperparameters"));
        m.set("training_file", spec.path("training_file"));
        m.set("validation_file", spec.get("validation_file") == null ? mapper.nullNode() : spec.get("validation_file"));
        m.set("init_adapter", spec.get("init_adapter") == null ? mapper.nullNode() : spec.get("init_adapter"));
        m.set("suffix", spec.get("suffix") == null ? mapper.nullNode() : spec.get("suffix"));
        m.put("created_at", j.createdAt().getEpochSecond());
        putTime(m, "started_at", j.startedAt());
        putTime(m, "finished_at", j.finishedAt());
        putTime(m, "estimated_finish", j.estimatedFinish());
        if (j.progressJson() != null) {
            m.set("progress", tree(j.progressJson()));
        } else {
            ObjectNode p = m.putObject("progress");
            p.put("step", 0);
            p.putNull("total_steps");
            p.putNull("epoch");
            p.put("percent", 0.0);
        }
        if (j.trainedTokens() == null) {
            m.putNull("trained_tokens");
        } else {
            m.put("trained_tokens", j.trainedTokens());
        }
        m.put("adapter", j.adapterId());
        // OpenAI's names for facts we have: the result is the adapter (usable as `model` in eval-service's
        // /v1/chat/completions and /v1/completions); the tenant is the organisation
        m.put("fine_tuned_model", j.adapterId());
        m.put("organization_id", j.tenant());
        // no result files are written: a job's metrics are its events and its evaluation (eval-service)
        m.putArray("result_files");
        m.set("error", j.errorJson() == null ? mapper.nullNode() : error(tree(j.errorJson())));
        m.set("metadata", spec.path("metadata"));
        m.set("seed", spec.path("seed"));
        // specs stored before priority existed have none: they were queued as normal
        m.put("priority", spec.path("priority").asText("normal"));
        // filled in by GET /v1/fine_tuning/jobs/{id} while the job is queued (QueuePositions)
        m.putNull("queue_position");
        m.putNull("estimated_start");
        m.put("attempt", j.attempt());
        m.put("checkpoint", j.checkpointId());
        // capacity-aware placement: the estimated peak memory a worker must offer (platform-contracts MemoryEstimate)
        JsonNode resources = j.resourcesJson() == null ? null : tree(j.resourcesJson());
        m.set("memory_estimate", resources == null || resources.path("memory_estimate").isMissingNode()
                ? mapper.nullNode() : resources.get("memory_estimate"));
        return m;
    }

    public ObjectNode event(EventRow e) {
        ObjectNode m = mapper.createObjectNode();
        m.put("id", e.id());
        m.put("object", "fine_tuning.job.event");
        m.put("job_id", e.jobId());
        m.put("seq", e.seq());
        m.put("created_at", e.createdAt().getEpochSecond());
        m.put("level", e.level());
        m.put("type", e.type());
        m.put("status", e.status());
        m.put("message", e.message());
        m.set("data", e.dataJson() == null ? mapper.nullNode() : tree(e.dataJson()));
        return m;
    }

    public ObjectNode checkpoint(EventRow e) {
        JsonNode data = tree(e.dataJson());
        ObjectNode m = mapper.createObjectNode();
        m.set("id", data.path("checkpoint_id"));
        m.put("object", "fine_tuning.job.checkpoint");
        m.put("fine_tuning_job_id", e.jobId());
        m.set("step", data.get("step") == null ? mapper.nullNode() : data.get("step"));
        m.put("attempt", Math.max(1, e.seq() / JobEventService.SEQ_PER_ATTEMPT));
        m.put("created_at", e.createdAt().getEpochSecond());
        if (data.has("metrics")) {
            m.set("metrics", data.get("metrics"));
        }
        return m;
    }

    /** OpenAI's error object: {@code code}, {@code message} and {@code param} always present (as the worker sent them). */
    private JsonNode error(JsonNode stored) {
        ObjectNode e = stored.isObject() ? ((ObjectNode) stored).deepCopy() : mapper.createObjectNode().put("message", stored.asText());
        if (!e.hasNonNull("code")) {
            e.put("code", "training_failed");
        }
        if (!e.hasNonNull("message")) {
            e.put("message", "the job failed");
        }
        if (!e.has("param")) {
            e.putNull("param");
        }
        return e;
    }

    private static void putTime(ObjectNode m, String field, Instant t) {
        if (t == null) {
            m.putNull(field);
        } else {
            m.put(field, t.getEpochSecond());
        }
    }

    private JsonNode tree(String json) {
        try {
            return mapper.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String json(JsonNode node) {
        return node.toString();
    }
}
