package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.spec.JobSpec;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventsJsonTest {

    private final ObjectMapper mapper = ContractsJson.newMapper();

    @Test
    void jobRequestedIsSnakeCaseAndRoundTrips() throws Exception {
        JobRequested requested = new JobRequested("ftjob-1", "tenant-a", 2, JobSpec.of("m", "f"), "ckpt-9");
        JsonNode tree = mapper.valueToTree(requested);
        assertEquals("ftjob-1", tree.get("job_id").textValue());
        assertEquals("ckpt-9", tree.get("resume_from").textValue());
        assertEquals("f", tree.get("spec").get("training_file").textValue());
        assertEquals(requested, mapper.readValue(mapper.writeValueAsString(requested), JobRequested.class));
    }

    @Test
    void jobEventWritesIsoInstantAndWireEnums() throws Exception {
        JobEvent event = new JobEvent("ftjob-1", 7, JobEventType.STATUS, JobStatus.VALIDATING_FILES,
                Map.of("message", "checking files"), Instant.parse("2026-01-02T03:04:05Z"));
        JsonNode tree = mapper.valueToTree(event);
        assertEquals("2026-01-02T03:04:05Z", tree.get("at").textValue());
        assertEquals("status", tree.get("type").textValue());
        assertEquals("validating_files", tree.get("status").textValue());
        assertEquals(7, tree.get("seq").intValue());
        assertEquals(event, mapper.readValue(mapper.writeValueAsString(event), JobEvent.class));
    }

    @Test
    void controlAndEvaluationRoundTrip() throws Exception {
        JobControl control = new JobControl("ftjob-1", ControlAction.PAUSE);
        assertEquals("{\"job_id\":\"ftjob-1\",\"action\":\"pause\"}", mapper.writeValueAsString(control));
        assertEquals(control, mapper.readValue(mapper.writeValueAsString(control), JobControl.class));

        EvaluationCompleted done = new EvaluationCompleted("ftjob-1", "eval-1", Map.of("accuracy", 0.8), null);
        assertEquals(done, mapper.readValue(mapper.writeValueAsString(done), EvaluationCompleted.class));
        assertTrue(mapper.valueToTree(done).has("evaluation_id"));
    }

    @Test
    void eventsTolerateFieldsAddedByNewerProducers() throws Exception {
        JobControl control = mapper.readValue("{\"job_id\":\"j\",\"action\":\"cancel\",\"reason\":\"user\"}",
                JobControl.class);
        assertEquals(ControlAction.CANCEL, control.action());
    }

    @Test
    void unknownEnumValueIsRejectedWithTheAllowedValues() {
        Exception e = assertThrows(Exception.class,
                () -> mapper.readValue("{\"job_id\":\"j\",\"action\":\"explode\"}", JobControl.class));
        assertTrue(e.getMessage().contains("expected one of cancel, pause"), e.getMessage());
    }

    @Test
    void terminalStatuses() {
        assertEquals(List.of(JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED),
                List.of(JobStatus.values()).stream().filter(JobStatus::isTerminal).toList());
        assertEquals(JobStatus.PAUSED, JobStatus.fromWire("paused"));
    }

    @Test
    void topicNames() {
        assertEquals("foundry.jobs.requested", Topics.JOBS_REQUESTED);
        assertEquals("foundry.jobs.control", Topics.JOBS_CONTROL);
        assertEquals("foundry.jobs.events", Topics.JOBS_EVENTS);
        assertEquals("foundry.eval.results", Topics.EVAL_RESULTS);
        assertEquals("foundry.jobs.events.dlq", Topics.dlq(Topics.JOBS_EVENTS));
        assertEquals("foundry.workers", Topics.WORKERS);
        assertEquals(12, Topics.all().size());
    }

    @Test
    void problemJsonOmitsAbsentMembers() throws Exception {
        JsonNode plain = mapper.valueToTree(Problem.of(404, "Not Found", "no job ftjob-x", "/v1/fine_tuning/jobs/ftjob-x"));
        assertEquals("about:blank", plain.get("type").textValue());
        assertFalse(plain.has("errors"));

        Problem invalid = Problem.validation(List.of(new FieldError("hyperparameters.epochs", "must be between 1 and 1000, got 0")),
                "/v1/fine_tuning/jobs");
        JsonNode tree = mapper.valueToTree(invalid);
        assertEquals(422, tree.get("status").intValue());
        assertEquals("hyperparameters.epochs", tree.get("errors").get(0).get("field").textValue());
        assertEquals(invalid, mapper.readValue(mapper.writeValueAsString(invalid), Problem.class));
    }
}
