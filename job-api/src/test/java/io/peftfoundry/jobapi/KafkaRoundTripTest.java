package io.peftfoundry.jobapi;

import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The consumed channels against the real broker: what job-api receives is consumed or dead-lettered (what it sends
 * goes through the outbox: JobsApiTest, OutboxKafkaDownTest). */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class KafkaRoundTripTest {

    private static final Pattern CONSUMED = Pattern.compile(
            "foundry_messages_consumed_total\\{channel=\"job-events\"[^}]*} ([0-9.eE+]+)");

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Test
    void jobEventIsConsumedAndAGarbledOneGoesToTheDeadLetterTopic() throws Exception {
        // wait until the consumer is assigned partitions, or the counter would not move for a while
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200));
        double before = consumedJobEvents().orElse(0.0);
        String jobId = "ftjob-" + UUID.randomUUID();
        JobEvent event = new JobEvent(jobId, 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of(), Instant.now());
        try (KafkaProducer<String, String> producer = producer()) {
            producer.send(new ProducerRecord<>(Topics.JOBS_EVENTS, jobId,
                    ContractsJson.newMapper().writeValueAsString(event))).get(30, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(Topics.JOBS_EVENTS, jobId, "{not json")).get(30, TimeUnit.SECONDS);
        }
        // exactly one well-formed event was sent, so the counter grows by one
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertEquals(before + 1.0, consumedJobEvents().orElse(0.0)));

        ConsumerRecord<String, String> dead = findByKey(Topics.dlq(Topics.JOBS_EVENTS), jobId);
        assertEquals("{not json", dead.value());
        assertTrue(dead.headers().lastHeader("dead-letter-reason") != null, "the reason travels in a header");
    }

    private Optional<Double> consumedJobEvents() {
        Matcher m = CONSUMED.matcher(given().get("/q/metrics").then().statusCode(200).extract().asString());
        return m.find() ? Optional.of(Double.parseDouble(m.group(1))) : Optional.empty();
    }

    private ConsumerRecord<String, String> findByKey(String topic, String key) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    if (key.equals(record.key())) {
                        return record;
                    }
                }
            }
        }
        throw new AssertionError("no record with key " + key + " on " + topic + " within 60 s");
    }

    private KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));
    }
}
