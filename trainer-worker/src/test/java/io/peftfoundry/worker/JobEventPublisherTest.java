package io.peftfoundry.worker;

import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.worker.messaging.JobEventPublisher;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the worker publishes on {@code job-events} arrives on the real topic, keyed by job id, as contract JSON. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class JobEventPublisherTest {

    @Inject
    JobEventPublisher publisher;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void publishedEventArrivesKeyedByJobId() throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID();
        JobEvent event = new JobEvent(jobId, 3, JobEventType.METRICS, JobStatus.RUNNING,
                Map.of("step", 10, "total_steps", 100, "loss", 0.5),
                Instant.now().truncatedTo(ChronoUnit.MILLIS));
        publisher.publish(event).toCompletableFuture().get(60, TimeUnit.SECONDS);

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
                    if (jobId.equals(record.key())) {
                        assertEquals(event, ContractsJson.newMapper().readValue(record.value(), JobEvent.class));
                        return;
                    }
                }
            }
        }
        throw new AssertionError("the event of " + jobId + " did not arrive on " + Topics.JOBS_EVENTS + " within 60 s");
    }
}
