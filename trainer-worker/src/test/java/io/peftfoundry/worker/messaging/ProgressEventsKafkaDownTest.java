package io.peftfoundry.worker.messaging;

import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Progress events (metrics, checkpoint, message) sent while Kafka is away for longer than the producer's delivery
 * timeout are not lost: the worker keeps them and sends them again once the broker is back, so the job's history has no
 * gap. The producer's delivery timeout is shortened to 4 s here so "longer than the delivery timeout" takes seconds, not
 * the default 120 s. Stops and starts Kafka of the devstack it runs against.
 */
@QuarkusTest
@TestProfile(ProgressEventsKafkaDownTest.ShortDeliveryTimeout.class)
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class ProgressEventsKafkaDownTest {

    public static final class ShortDeliveryTimeout implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("mp.messaging.outgoing.job-events.delivery.timeout.ms", "4000",
                    "mp.messaging.outgoing.job-events.request.timeout.ms", "3000",
                    "mp.messaging.outgoing.job-events.max.block.ms", "3000",
                    "foundry.worker.unsent-events-retry-every", "1s");
        }
    }

    private final DevStackControl devstack = DevStackControl.local();

    @Inject
    JobEventPublisher publisher;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void progressEventsSentWhileKafkaIsAwayLongerThanTheDeliveryTimeoutArriveOnceItIsBack() throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID();
        JobEvents events = new JobEvents(publisher, jobId, 1);
        events.status(JobStatus.RUNNING, Map.of("worker", "test")); // seq 1, acknowledged: the topic's metadata is known

        devstack.stop("kafka");
        events.message("resumes");                                              // seq 2
        events.metrics(Map.of("step", 10L, "total_steps", 30L, "loss", 0.9));   // seq 3
        events.checkpoint("ckpt-test", 10);                                     // seq 4
        events.metrics(Map.of("step", 20L, "total_steps", 30L, "loss", 0.7));   // seq 5
        // the producer gives these four up after its delivery timeout (4 s); the worker must keep them
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (publisher.unsentEvents() < 4 && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(4, publisher.unsentEvents(), "events given up by the producer and kept for sending again");
        devstack.start("kafka");

        assertEquals(new TreeSet<>(List.of(1_000_001L, 1_000_002L, 1_000_003L, 1_000_004L, 1_000_005L)), seqsOnTopic(jobId, 5, Duration.ofSeconds(120)));
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (publisher.unsentEvents() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(0, publisher.unsentEvents(), "nothing left to send once the broker acknowledged everything");
    }

    private TreeSet<Long> seqsOnTopic(String jobId, int expected, Duration within) throws Exception {
        TreeSet<Long> seqs = new TreeSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            consumer.subscribe(List.of(Topics.JOBS_EVENTS));
            long deadline = System.nanoTime() + within.toNanos();
            while (System.nanoTime() < deadline && seqs.size() < expected) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    if (jobId.equals(record.key())) {
                        seqs.add(ContractsJson.newMapper().readValue(record.value(), JobEvent.class).seq());
                    }
                }
            }
            // a little longer: a late resend of an already counted event does not change the set, a lost one stays lost
            for (int i = 0; i < 4; i++) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    if (jobId.equals(record.key())) {
                        seqs.add(ContractsJson.newMapper().readValue(record.value(), JobEvent.class).seq());
                    }
                }
            }
        }
        return seqs;
    }

    @AfterEach
    void kafkaBackUp() {
        if (!"UP".equals(devstack.health().get("kafka"))) {
            devstack.start("kafka");
        }
    }
}
