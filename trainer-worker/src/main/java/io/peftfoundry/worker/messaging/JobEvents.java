package io.peftfoundry.worker.messaging;

import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The events of one run (attempt) of a job, numbered {@code seq = attempt * 1_000_000 + n} with n from 1, so seq keeps
 * increasing across attempts and job-api can order and deduplicate them.
 */
public final class JobEvents {

    public static final long SEQ_PER_ATTEMPT = 1_000_000L;

    private final JobEventPublisher publisher;
    private final String jobId;
    private final int attempt;
    private final AtomicLong n = new AtomicLong();

    public JobEvents(JobEventPublisher publisher, String jobId, int attempt) {
        this.publisher = publisher;
        this.jobId = jobId;
        this.attempt = attempt;
    }

    public int attempt() {
        return attempt;
    }

    public void status(JobStatus status, Map<String, Object> data) {
        Map<String, Object> d = new LinkedHashMap<>(data);
        d.putIfAbsent("attempt", attempt);
        send(JobEventType.STATUS, status, d, true);
    }

    /**
     * The status event that ends this run, numbered in this run's sequence but not sent: it goes out through the
     * worker's event outbox in the same transaction that records the ending ({@code RunEndings}).
     */
    public JobEvent statusEvent(JobStatus status, Map<String, Object> data) {
        Map<String, Object> d = new LinkedHashMap<>(data);
        d.putIfAbsent("attempt", attempt);
        return new JobEvent(jobId, attempt * SEQ_PER_ATTEMPT + n.incrementAndGet(), JobEventType.STATUS, status, d,
                Instant.now());
    }

    public void message(String text) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("message", text);
        d.put("attempt", attempt);
        send(JobEventType.MESSAGE, null, d, false);
    }

    public void metrics(Map<String, Object> data) {
        send(JobEventType.METRICS, JobStatus.RUNNING, data, false);
    }

    public void checkpoint(String checkpointId, long step) {
        send(JobEventType.CHECKPOINT, JobStatus.RUNNING, Map.of("checkpoint_id", checkpointId, "step", step,
                "attempt", attempt), false);
    }

    /** An event that has to be on Kafka before the run goes on (the {@code running} status) could not be sent. */
    public static final class EventsUnavailableException extends IllegalStateException {
        EventsUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Status events wait for the broker's acknowledgement (a run only ends once its outcome is on Kafka); the others are
     * kept by the publisher until acknowledged ({@link JobEventPublisher#publishKeepingUnsent}).
     */
    private void send(JobEventType type, JobStatus status, Map<String, Object> data, boolean await) {
        JobEvent event = new JobEvent(jobId, attempt * SEQ_PER_ATTEMPT + n.incrementAndGet(), type, status, data,
                Instant.now());
        if (!await) {
            publisher.publishKeepingUnsent(event); // progress: not waited on, but sent again if Kafka was away too long
            return;
        }
        try {
            publisher.publish(event).toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsUnavailableException("interrupted while publishing " + type.wire() + " of " + jobId, e);
        } catch (Exception e) {
            throw new EventsUnavailableException("could not publish the " + type.wire() + " event of " + jobId
                    + ": " + e.getMessage(), e);
        }
    }
}
