package io.peftfoundry.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.worker.queue.JobQueue;
import io.peftfoundry.worker.queue.QueueTesting;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A job whose every attempt fails (artifact-store answers 503) ends {@code max_attempts_exceeded}, and its error says
 * why: the last attempt's exception class and the store's own words, in the failed event and in the recorded outcome.
 */
@QuarkusTest
@WithTestResource(DevStackTestResource.class)
@WithTestResource(FailingArtifactStore.class)
class FailureMessageTest {

    @Inject
    JobProcessor processor;

    @Inject
    DataSource dataSource;

    @Inject
    JobQueue queue;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "foundry.worker.max-attempts")
    int maxAttempts;

    @Test
    void exhaustedRetriesCarryTheLastAttemptsError() throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID();
        JobSpec spec = JobSpec.of("all-minilm-l6-v2", "file-missing-store");
        assertEquals(JobProcessor.Disposition.ENDED, processor.process(QueueTesting.queueAndClaim(queue, dataSource,
                new JobRequested(jobId, "tenant-failure-test", 1, spec, null), processor.workerId())));

        JsonNode error = failedEventError(jobId);
        assertEquals("max_attempts_exceeded", error.path("code").asText());
        String message = error.path("message").asText();
        assertThat(message, containsString("failed " + maxAttempts + " times"));
        assertThat(message, containsString("last error: ArtifactStoreException"));
        assertThat(message, containsString("503"));
        assertThat(message, containsString(FailingArtifactStore.DETAIL));

        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT status, error FROM job_outcomes WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("failed", rs.getString(1));
                assertThat(rs.getString(2), containsString(FailingArtifactStore.DETAIL));
            }
        }
    }

    @Test
    void onlyTransientStoreAnswersAreRetried() {
        assertTrue(JobProcessor.retryable(503));
        assertTrue(JobProcessor.retryable(429));
        assertTrue(!JobProcessor.retryable(400));
        assertTrue(!JobProcessor.retryable(403));
    }

    private JsonNode failedEventError(String jobId) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            consumer.subscribe(List.of(Topics.JOBS_EVENTS));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    // the topic is shared with every other test on this devstack, some of which publish
                    // deliberately malformed events: look only at this job's records
                    if (!jobId.equals(record.key())) {
                        continue;
                    }
                    JsonNode event = mapper.readTree(record.value());
                    if ("failed".equals(event.path("status").asText())) {
                        return event.path("data").path("error");
                    }
                }
            }
        }
        throw new AssertionError("no failed event of " + jobId + " on " + Topics.JOBS_EVENTS + " within 60 s");
    }
}
