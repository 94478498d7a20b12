package io.peftfoundry.jobapi.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.EvaluationCompleted;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.jobapi.service.WorkerFleet;
import io.peftfoundry.jobapi.service.JobEventService;
import io.peftfoundry.support.messaging.RetryingConsumer;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.sql.SQLException;

/**
 * Reads job events (from trainer workers), the workers' capabilities ({@link WorkerFleet}) and evaluation results
 * (from eval-service). Job events are stored and applied
 * to the job ({@link JobEventService}); evaluation results are only parsed, logged and counted for now. Every consumed
 * message counts in {@code foundry.messages.consumed}. A database failure (PostgreSQL restarting) is retried in place
 * with back-off ({@link RetryingConsumer}), so a {@code succeeded} event arriving meanwhile is applied once the
 * database is back, in order; only a message that does not parse goes to the channel's dead-letter topic.
 */
@ApplicationScoped
public class IncomingEvents {

    private static final Logger LOG = Logger.getLogger(IncomingEvents.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final JobEventService events;
    private final RetryingConsumer retrying;
    private final WorkerFleet fleet;

    public IncomingEvents(ObjectMapper mapper, MeterRegistry registry, JobEventService events,
                          RetryingConsumer retrying, WorkerFleet fleet) {
        this.fleet = fleet;
        this.mapper = mapper;
        this.registry = registry;
        this.events = events;
        this.retrying = retrying;
    }

    @Incoming("job-events")
    @Blocking
    public void onJobEvent(ConsumerRecord<String, String> record) throws Exception {
        retrying.process("job-events", record, this::applyJobEvent);
    }

    @Incoming("eval-results")
    @Blocking
    public void onEvaluationCompleted(ConsumerRecord<String, String> record) throws Exception {
        retrying.process("eval-results", record, this::readEvaluationCompleted);
    }

    @Incoming("worker-capabilities")
    @Blocking
    public void onWorkerCapabilities(ConsumerRecord<String, String> record) throws Exception {
        retrying.process("worker-capabilities", record, this::recordWorker);
    }

    private void recordWorker(ConsumerRecord<String, String> record) throws JsonProcessingException, SQLException {
        WorkerCapabilities w = mapper.readValue(record.value(), WorkerCapabilities.class);
        if (w.workerId() == null || w.device() == null || w.state() == null || w.at() == null || w.memoryBytes() < 0
                || !(WorkerCapabilities.UP.equals(w.state()) || WorkerCapabilities.DOWN.equals(w.state()))) {
            throw new IllegalArgumentException("worker capabilities need worker_id, device, memory_bytes >= 0, state"
                    + " (up or down) and at");
        }
        fleet.record(w);
        LOG.debugf("worker %s: %s, %s, %d MiB for a job, families %s", w.workerId(), w.state(), w.device(),
                w.memoryBytes() >> 20, w.families());
        consumed("worker-capabilities");
    }

    private void applyJobEvent(ConsumerRecord<String, String> record) throws JsonProcessingException, SQLException {
        JobEvent event = mapper.readValue(record.value(), JobEvent.class);
        if (event.jobId() == null || event.type() == null) {
            throw new IllegalArgumentException("a job event needs job_id and type");
        }
        JobEventService.Outcome outcome = events.apply(event);
        LOG.debugf("job %s: event seq %d type %s status %s: %s", event.jobId(), event.seq(), event.type(),
                event.status(), outcome);
        consumed("job-events");
    }

    private void readEvaluationCompleted(ConsumerRecord<String, String> record) throws JsonProcessingException {
        EvaluationCompleted result = mapper.readValue(record.value(), EvaluationCompleted.class);
        LOG.debugf("job %s: evaluation %s completed", record.key(), result.evaluationId());
        consumed("eval-results");
    }

    private void consumed(String channel) {
        registry.counter("foundry.messages.consumed", "channel", channel).increment();
    }
}
