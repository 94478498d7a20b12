package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.worker.config.WorkerConfig;
import io.peftfoundry.worker.queue.JobQueue;
import io.peftfoundry.worker.service.ClaimLoop;
import io.peftfoundry.worker.service.JobProcessor;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reads {@link Topics#JOBS_REQUESTED} in group {@code trainer-workers} and writes each request into the shared queue
 * ({@link JobQueue#enqueue}), committing the offset once it is there; it never trains. Which worker runs a job is
 * decided by the claim ({@link ClaimLoop}), not by which partition the request landed on, so a request never waits
 * behind a busy worker and workers beyond the partition count get work too. Queueing is idempotent, so a request
 * delivered twice (a rebalance before the commit) is queued once. A record that is not a {@code JobRequested} goes to
 * the dead-letter topic.
 */
@ApplicationScoped
public class JobRequestConsumer {

    private static final Logger LOG = Logger.getLogger(JobRequestConsumer.class);
    public static final String GROUP = "trainer-workers";

    private final JobProcessor processor;
    private final JobQueue queue;
    private final ClaimLoop claims;
    private final JobEventPublisher publisher;
    private final WorkerConfig config;
    private final String bootstrapServers;
    private final ObjectMapper mapper = ContractsJson.newMapper();
    private final AtomicBoolean running = new AtomicBoolean();
    private KafkaConsumer<String, String> consumer;
    private KafkaProducer<String, String> dlqProducer;
    private Thread pollThread;

    public JobRequestConsumer(JobProcessor processor, JobQueue queue, ClaimLoop claims, JobEventPublisher publisher,
                              WorkerConfig config,
                              @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this.processor = processor;
        this.queue = queue;
        this.claims = claims;
        this.publisher = publisher;
        this.config = config;
        this.bootstrapServers = bootstrapServers;
    }

    void onStart(@Observes StartupEvent ev) {
        if (!config.consume()) {
            LOG.info("foundry.worker.consume=false: not consuming job requests");
            return;
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "trainer-worker-" + processor.workerId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(config.sessionTimeoutMs()));
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.toString(Math.max(500, config.sessionTimeoutMs() / 4)));
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "5000");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumer = new KafkaConsumer<>(c);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "5000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        dlqProducer = new KafkaProducer<>(p);
        running.set(true);
        pollThread = new Thread(this::pollLoop, "job-requests-poll");
        pollThread.start();
        LOG.infof("worker %s consuming %s in group %s", processor.workerId(), Topics.JOBS_REQUESTED, GROUP);
    }

    void onStop(@Observes ShutdownEvent ev) {
        running.set(false);
        if (consumer != null) {
            consumer.wakeup();
        }
        try {
            if (pollThread != null) {
                pollThread.join(30_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dlqProducer != null) {
            dlqProducer.close(Duration.ofSeconds(5));
        }
    }

    private void pollLoop() {
        try {
            consumer.subscribe(List.of(Topics.JOBS_REQUESTED));
            while (running.get()) {
                ConsumerRecords<String, String> records;
                try {
                    records = consumer.poll(Duration.ofMillis(500));
                } catch (WakeupException e) {
                    break;
                } catch (KafkaException e) {
                    LOG.warnf("polling %s failed: %s", Topics.JOBS_REQUESTED, e.getMessage());
                    sleepQuietly(1000);
                    continue;
                }
                for (ConsumerRecord<String, String> record : records) {
                    if (!handle(record)) {
                        // leave the rest of this poll for the next one, after the record that failed
                        sleepQuietly(1000);
                        break;
                    }
                    if (!running.get()) {
                        break;
                    }
                }
            }
        } catch (WakeupException e) {
            // shutting down
        } catch (Exception e) {
            LOG.error("the job-requests consumer stopped", e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (Exception e) {
                LOG.debugf("closing the consumer: %s", e.getMessage());
            }
        }
    }

    /** Queues one record; false when the queue (PostgreSQL) is unreachable: the record is read again. */
    private boolean handle(ConsumerRecord<String, String> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        JobRequested request;
        try {
            request = mapper.readValue(record.value(), JobRequested.class);
            if (request.jobId() == null || request.spec() == null || request.attempt() < 1) {
                throw new IllegalArgumentException("job_id, attempt (≥ 1) and spec are required");
            }
        } catch (Exception e) {
            deadLetter(record, e);
            commit(tp, record.offset());
            return true;
        }
        try {
            JobQueue.Enqueued result = queue.enqueue(request);
            LOG.infof("job %s: request of attempt %d %s (tenant %s, priority %s)", request.jobId(), request.attempt(),
                    switch (result) {
                        case QUEUED -> "queued";
                        case REQUEUED -> "queued again";
                        case UNCHANGED -> "already queued";
                        case ALREADY_FINISHED -> "skipped: the job already ended";
                    }, request.tenant(), request.spec().withDefaults().priority().wire());
        } catch (SQLException e) {
            LOG.warnf("job %s: could not queue its request (%s); reading it again", request.jobId(), e.getMessage());
            consumer.seek(tp, record.offset());
            return false;
        }
        commit(tp, record.offset());
        claims.wake();
        return true;
    }

    private void commit(TopicPartition tp, long offset) {
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(offset + 1)));
        } catch (KafkaException e) {
            // the partition moved to another worker meanwhile; it will see the job's outcome and skip it
            LOG.warnf("could not commit %s@%d: %s", tp, offset, e.getMessage());
        }
    }

    /** To {@code foundry.jobs.requested.dlq} with the reason in headers; a job id in it gets a {@code failed} event. */
    private void deadLetter(ConsumerRecord<String, String> record, Exception cause) {
        String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage().split("\n")[0];
        ProducerRecord<String, String> dlq = new ProducerRecord<>(Topics.dlq(Topics.JOBS_REQUESTED), record.key(),
                record.value());
        dlq.headers().add("dead-letter-reason", reason.getBytes(StandardCharsets.UTF_8));
        dlq.headers().add("dead-letter-cause", cause.getClass().getName().getBytes(StandardCharsets.UTF_8));
        dlq.headers().add("dead-letter-topic", record.topic().getBytes(StandardCharsets.UTF_8));
        dlq.headers().add("dead-letter-partition", Integer.toString(record.partition()).getBytes(StandardCharsets.UTF_8));
        dlq.headers().add("dead-letter-offset", Long.toString(record.offset()).getBytes(StandardCharsets.UTF_8));
        try {
            dlqProducer.send(dlq).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.errorf("could not dead-letter %s@%d: %s", record.topic(), record.offset(), e.getMessage());
        }
        String jobId = jobIdOf(record);
        LOG.warnf("job request %s@%d (job %s) sent to the dead-letter topic: %s", record.topic(), record.offset(),
                jobId, reason);
        if (jobId != null) {
            int attempt = attemptOf(record);
            JobEvents events = new JobEvents(publisher, jobId, attempt);
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("code", "invalid_request");
            error.put("message", "the job request could not be processed: " + reason);
            error.put("param", null);
            try {
                events.status(JobStatus.FAILED, Map.of("error", error, "at", Instant.now().toString()));
            } catch (Exception e) {
                LOG.errorf("job %s: could not publish its failure: %s", jobId, e.getMessage());
            }
        }
    }

    private String jobIdOf(ConsumerRecord<String, String> record) {
        try {
            JsonNode n = mapper.readTree(record.value());
            if (n != null && n.path("job_id").isTextual()) {
                return n.path("job_id").asText();
            }
        } catch (Exception e) {
            // not JSON: fall back to the key
        }
        return record.key();
    }

    private int attemptOf(ConsumerRecord<String, String> record) {
        try {
            int a = mapper.readTree(record.value()).path("attempt").asInt(1);
            return Math.max(1, a);
        } catch (Exception e) {
            return 1;
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
