package io.peftfoundry.jobapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault injection (finding 8): PostgreSQL is stopped while a job's {@code running} and {@code succeeded} events arrive.
 * The consumer must retry until the database is back — not dead-letter the events — so the job ends {@code succeeded}
 * with the adapter of the event. Stops and starts PostgreSQL of the devstack it runs against.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class EventsDuringDatabaseRestartTest {

    private static final Pattern RETRIED = Pattern.compile(
            "foundry_messages_retried_total\\{channel=\"job-events\"[^}]*} ([0-9.eE+]+)");

    private final DevStackControl devstack = DevStackControl.local();

    @Inject
    DataSource dataSource;

    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void succeededEventArrivingWhilePostgresIsDownEndsTheJobSucceeded() throws Exception {
        TestTenants.ensure(dataSource);
        String jobId = "ftjob-" + UUID.randomUUID().toString().replace("-", "");
        insertQueuedJob(jobId);
        // the consumer is assigned its partitions before the events are sent (readiness includes the consumer)
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> given().get("/q/health/ready").then().statusCode(200));
        double retriedBefore = retried();

        devstack.stop("postgres");
        long seq = JobEventService_SEQ_PER_ATTEMPT + 1;
        Fixtures.publishEvents(mapper, bootstrap, List.of(
                new JobEvent(jobId, seq, JobEventType.STATUS, JobStatus.RUNNING, Map.of(), Instant.now()),
                new JobEvent(jobId, seq + 1, JobEventType.STATUS, JobStatus.SUCCEEDED,
                        Map.of("adapter_id", "adapter-" + jobId, "trained_tokens", 64), Instant.now())));
        // the consumer has met the stopped database at least once and is retrying (before the fix: dead-lettered)
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> retried() > retriedBefore);
        devstack.start("postgres");

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertEquals("succeeded", jobColumn(jobId, "status")));
        assertEquals("adapter-" + jobId, jobColumn(jobId, "adapter_id"));
        assertEquals(Long.toString(seq + 1), jobColumn(jobId, "last_event_seq"));
        assertFalse(Fixtures.keysOnTopic(bootstrap, Topics.dlq(Topics.JOBS_EVENTS)).contains(jobId),
                "no event of the job went to the dead-letter topic");
    }

    @Test
    void garbledEventStillGoesToTheDeadLetterTopicWithItsReason() throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID().toString().replace("-", "");
        Fixtures.publishRaw(bootstrap, Topics.JOBS_EVENTS, jobId, "{\"job_id\": [unreadable");
        var dead = Fixtures.findRecord(bootstrap, Topics.dlq(Topics.JOBS_EVENTS), jobId, v -> true,
                Duration.ofSeconds(120));
        assertEquals("{\"job_id\": [unreadable", dead.value());
        assertTrue(new String(dead.headers().lastHeader("dead-letter-reason").value()).length() > 0);
        assertEquals(Topics.JOBS_EVENTS, new String(dead.headers().lastHeader("dead-letter-topic").value()));
    }

    @AfterEach
    void postgresBackUp() {
        if (!"UP".equals(devstack.health().get("postgres"))) {
            devstack.start("postgres");
        }
    }

    private static final long JobEventService_SEQ_PER_ATTEMPT =
            io.peftfoundry.jobapi.service.JobEventService.SEQ_PER_ATTEMPT;

    private void insertQueuedJob(String jobId) throws Exception {
        JobSpec spec = JobSpec.of("minilm-l6-v2", "file-" + jobId);
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO jobs (id, tenant_id, status, spec, model, task, method_type, training_file) "
                        + "VALUES (?, ?, 'queued', ?::jsonb, ?, 'classification', 'lora', ?)")) {
            ps.setString(1, jobId);
            ps.setString(2, TestTenants.TENANT_A);
            ps.setString(3, mapper.writeValueAsString(spec));
            ps.setString(4, spec.model());
            ps.setString(5, spec.trainingFile());
            ps.executeUpdate();
        }
    }

    private String jobColumn(String jobId, String column) throws Exception {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + column + "::text FROM jobs WHERE id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private double retried() {
        Matcher m = RETRIED.matcher(given().get("/q/metrics").then().statusCode(200).extract().asString());
        return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
    }
}
