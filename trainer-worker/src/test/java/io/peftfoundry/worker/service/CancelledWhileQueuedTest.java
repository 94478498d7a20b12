package io.peftfoundry.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.ControlAction;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.worker.lease.CancellationRepository;
import io.peftfoundry.worker.lease.OutcomeRepository;
import io.peftfoundry.worker.queue.JobQueue;
import io.peftfoundry.worker.queue.QueueTesting;
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

import javax.sql.DataSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A job cancelled while its request was queued: when the request reaches a worker, the worker skips it — no
 * {@code running} event, no training — and reports it cancelled. The worker here never saw the cancel in memory (as a
 * worker started after the cancel): the skip rests on the cancel recorded from the control topic in PostgreSQL.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class CancelledWhileQueuedTest {

    private static final Duration BOUND = Duration.ofSeconds(90);

    @Inject
    JobProcessor processor;

    @Inject
    ControlRequests controls;

    @Inject
    CancellationRepository cancellations;

    @Inject
    OutcomeRepository outcomes;

    @Inject
    JobQueue queue;

    @Inject
    DataSource dataSource;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private final ObjectMapper mapper = ContractsJson.newMapper();

    @Test
    void aRequestOfAJobCancelledWhileQueuedIsSkippedWithoutARunningEvent() throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            producer.send(new ProducerRecord<>(Topics.JOBS_CONTROL, jobId,
                    mapper.writeValueAsString(new JobControl(jobId, ControlAction.CANCEL)))).get(60, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!cancellations.isCancelled(jobId)) {
            assertTrue(System.nanoTime() < deadline, "the cancel of " + jobId + " was not recorded within " + BOUND);
            Thread.sleep(100);
        }
        // this worker "was not up" when the cancel went out: only the recorded cancel can stop the job
        controls.clear(jobId);

        // a spec that names artifacts which do not exist: were the job started, it would report running and fail
        JobRequested request = new JobRequested(jobId, "tenant-x", 1,
                JobSpecs.parse("{\"model\":\"no-such-model\",\"training_file\":\"file-missing\"}"), null);
        assertEquals(JobProcessor.Disposition.ENDED,
                processor.process(QueueTesting.queueAndClaim(queue, dataSource, request, processor.workerId())));
        assertEquals(Optional.of(JobStatus.CANCELLED), outcomes.terminalStatus(jobId));
        // delivered again (e.g. the commit was lost): never queued again
        assertEquals(JobQueue.Enqueued.ALREADY_FINISHED, queue.enqueue(request));

        List<JsonNode> events = eventsOf(jobId);
        assertEquals(1, events.size(), "events: " + events);
        assertEquals("status", events.get(0).path("type").asText());
        assertEquals("cancelled", events.get(0).path("status").asText());
        assertTrue(events.stream().noneMatch(e -> "running".equals(e.path("status").asText())), "events: " + events);
    }

    /** Every event of the job on the events topic; reads until a quiet second after the first one. */
    private List<JsonNode> eventsOf(String jobId) throws Exception {
        List<JsonNode> found = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            consumer.subscribe(List.of(Topics.JOBS_EVENTS));
            long deadline = System.nanoTime() + BOUND.toNanos();
            long quietSince = 0;
            while (System.nanoTime() < deadline) {
                boolean any = false;
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    if (jobId.equals(record.key())) {
                        found.add(mapper.readTree(record.value()));
                        any = true;
                    }
                }
                if (any || found.isEmpty()) {
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(2)) {
                    break;
                }
            }
        }
        return found;
    }
}
