package io.peftfoundry.jobapi;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.service.OutboxRelay;
import io.peftfoundry.jobapi.support.Fixtures;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding 11: an outbox row Kafka refuses (here: larger than the producer's 1 MiB max.request.size) holds up only the
 * later rows of its own job; another job's row behind it is published, and once the row can go, its job's rows follow
 * in order.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class OutboxRefusedRowTest {

    /** Over the producer's default max.request.size of 1,048,576 bytes, so every send of it is refused. */
    private static final int TOO_LARGE = 1_100_000;

    @Inject
    DataSource dataSource;

    @Inject
    OutboxRelay relay;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void aRowKafkaRefusesHoldsUpOnlyItsOwnJob() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String topic = "foundry.test.outbox-" + run;
        String stuckJob = "ftjob-stuck-" + run;
        String otherJob = "ftjob-other-" + run;
        long stuck = insert(topic, stuckJob, "{\"n\": 1, \"pad\": \"" + "x".repeat(TOO_LARGE) + "\"}");
        long behind = insert(topic, stuckJob, "{\"n\": 2}");
        long other = insert(topic, otherJob, "{\"n\": 3}");
        relay.wakeUp();

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> column(other, "published_at") != null);
        assertNull(column(stuck, "published_at"), "the refused row is not marked sent");
        assertTrue(Integer.parseInt(column(stuck, "attempts")) >= 1);
        assertTrue(column(stuck, "last_error").contains("RecordTooLarge"), column(stuck, "last_error"));
        assertNull(column(behind, "published_at"), "the job's later row waits behind its refused row");
        assertEquals("{\"n\": 3}", Fixtures.findRecord(bootstrap, topic, otherJob, v -> true, Duration.ofSeconds(60))
                .value());

        // the refused row becomes publishable (as if the broker's limit were raised): the job's rows follow, in order
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE outbox SET payload = '{\"n\": 1}'::jsonb, next_attempt_at = now() WHERE id = ?")) {
            ps.setLong(1, stuck);
            ps.executeUpdate();
        }
        relay.wakeUp();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> column(behind, "published_at") != null);
        ConsumerRecord<String, String> first = Fixtures.findRecord(bootstrap, topic, stuckJob,
                v -> v.equals("{\"n\": 1}"), Duration.ofSeconds(60));
        ConsumerRecord<String, String> second = Fixtures.findRecord(bootstrap, topic, stuckJob,
                v -> v.equals("{\"n\": 2}"), Duration.ofSeconds(60));
        assertEquals(first.partition(), second.partition(), "keyed by job id: one partition");
        assertTrue(first.offset() < second.offset(), "the job's rows were published in order");
    }

    @Test
    void refusedRowsBackOffExponentiallyUpToTenMinutes() {
        assertEquals(1, OutboxRelay.backoffSeconds(1));
        assertEquals(2, OutboxRelay.backoffSeconds(2));
        assertEquals(512, OutboxRelay.backoffSeconds(10));
        assertEquals(600, OutboxRelay.backoffSeconds(11));
        assertEquals(600, OutboxRelay.backoffSeconds(1_000));
    }

    private long insert(String topic, String key, String payload) throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO outbox (topic, message_key, payload) VALUES (?, ?, ?::jsonb) RETURNING id")) {
            ps.setString(1, topic);
            ps.setString(2, key);
            ps.setString(3, payload);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private String column(long id, String column) throws Exception {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + column + "::text FROM outbox WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
