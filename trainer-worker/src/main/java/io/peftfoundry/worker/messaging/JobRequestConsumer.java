package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.worker.config.WorkerConfig;
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
 * Consumes {@link Topics#JOBS_REQUESTED} in group {@code trainer-workers}, one job at a time.
 *
 * <p>Why a plain {@link KafkaConsumer} and not a SmallRye channel: training takes minutes to hours, far past
 * {@code max.poll.interval.ms} (5 min) and SmallRye's throttled-commit {@code unprocessed-record-max-age.ms} (60 s,
 * after which the channel reports unhealthy). Here the job runs on its own thread while this thread keeps calling
 * {@code poll} with every assigned partition <em>paused</em>: the consumer stays in the group (polls keep coming,
 * no records are fetched), and the offset is committed only when the job reached a terminal or paused state. A worker
 * killed mid-job never committed, so its job is redelivered to another worker (or to it, restarted), which takes the
 * job over once the lease expires.
 */
@ApplicationScoped
public class JobRequestConsumer {

    private static final Logger LOG = Logger.getLogger(JobRequestConsumer.class);
    public static final String GROUP = "trainer-workers";

    private final JobProcessor processor;
    private final JobEventPublisher publisher;
    private final WorkerConfig config;
    private final String bootstrapServers;
    private final ObjectMapper mapper = ContractsJson.newMapper();
    private final AtomicBoolean running = new AtomicBoolean();
    private final ExecutorService jobThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "job-runner"));
    private volatile boolean busy;
    private KafkaConsumer<String, String> consumer;
    private KafkaProducer<String, String> dlqProducer;
    private Thread pollThread;
    /** How long the poll thread waits on a running job between the polls that keep it in the group. */
    private static final Duration JOB_WAIT = Duration.ofMillis(250);

    public JobRequestConsumer(JobProcessor processor, JobEventPublisher publisher, WorkerConfig config,
                              @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this.processor = processor;
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
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(config.sessionTimeoutMs()));
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.toString(Math.max(500, config.sessionTimeoutMs() / 4)));
        // a rebalance (a worker joins or dies) leaves the partitions of the running job where they are
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
        processor.shutdown();
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
        jobThread.shutdownNow();
        if (dlqProducer != null) {
            dlqProducer.close(Duration.ofSeconds(5));
        }
    }

    /** True while a job is being processed. */
    public boolean busy() {
        return busy;
    }

    private void pollLoop() {
        try {
            consumer.subscribe(List.of(Topics.JOBS_REQUESTED), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    if (busy) {
                        // one job at a time: partitions gained mid-job stay paused until it ends
                        consumer.pause(partitions);
                    }
                }
            });
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
                    handle(record);
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

    private void handle(ConsumerRecord<String, String> record) {
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
            return;
        }
        busy = true;
        consumer.pause(consumer.assignment());
        JobProcessor.Disposition disposition = JobProcessor.Disposition.ABANDON;
        try {
            Future<JobProcessor.Disposition> job = jobThread.submit(() -> processor.process(request));
            while (true) {
                try {
                    // wait on the job itself, so the next request is polled the moment it ends (a paused
                    // poll(500 ms) here kept an idle worker from its next job for up to half a second)
                    disposition = job.get(JOB_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException stillRunning) {
                    // keep the consumer in the group below
                }
                try {
                    // paused: no records come back, but the consumer keeps its place in the group
                    ConsumerRecords<String, String> none = consumer.poll(Duration.ZERO);
                    if (!none.isEmpty()) {
                        // a partition assigned between polls was not paused yet: give its records back
                        none.partitions().forEach(p -> consumer.seek(p, none.records(p).get(0).offset()));
                        consumer.pause(consumer.assignment());
                    }
                } catch (WakeupException e) {
                    // shutting down: let the job hand itself back (it stops at its next step)
                    job.get(60, TimeUnit.SECONDS);
                    throw e;
                } catch (KafkaException e) {
                    LOG.warnf("polling while job %s runs failed: %s", request.jobId(), e.getMessage());
                    sleepQuietly(500);
                }
            }
        } catch (WakeupException e) {
            throw e;
        } catch (Exception e) {
            LOG.errorf(e, "job %s: processing failed; the request stays uncommitted", request.jobId());
            disposition = JobProcessor.Disposition.REDELIVER;
        } finally {
            busy = false;
        }
        switch (disposition) {
            case COMMIT -> commit(tp, record.offset());
            case REDELIVER -> {
                if (consumer.assignment().contains(tp)) {
                    consumer.seek(tp, record.offset());
                }
                sleepQuietly(1000);
            }
            case ABANDON -> {
            }
        }
        consumer.resume(consumer.assignment());
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
