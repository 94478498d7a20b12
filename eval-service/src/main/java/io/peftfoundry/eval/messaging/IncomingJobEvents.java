package io.peftfoundry.eval.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.eval.service.EvaluationService;
import io.peftfoundry.support.messaging.RetryingConsumer;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads job events (group {@code eval-service}): a {@code status} event with status {@code succeeded} is evaluated;
 * {@code failed} or {@code cancelled} produce no evaluation (they only fail a baseline or SFT-only counterpart waiting on
 * that job, with the job's error). A transient
 * failure (PostgreSQL restarting, artifact-store or S3 away) is retried in place with back-off ({@link RetryingConsumer});
 * only an event that does not parse goes to the dead-letter topic.
 */
@ApplicationScoped
public class IncomingJobEvents {

    private static final Logger LOG = Logger.getLogger(IncomingJobEvents.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final EvaluationService evaluations;
    private final RetryingConsumer retrying;

    public IncomingJobEvents(ObjectMapper mapper, MeterRegistry registry, EvaluationService evaluations,
                             RetryingConsumer retrying) {
        this.mapper = mapper;
        this.registry = registry;
        this.evaluations = evaluations;
        this.retrying = retrying;
    }

    @Incoming("job-events")
    @Blocking
    public void onJobEvent(ConsumerRecord<String, String> record) throws Exception {
        retrying.process("job-events", record, this::handle);
    }

    private void handle(ConsumerRecord<String, String> record) throws Exception {
        JobEvent event = mapper.readValue(record.value(), JobEvent.class);
        registry.counter("foundry.messages.consumed", "channel", "job-events").increment();
        if (event.type() != JobEventType.STATUS || event.status() == null) {
            return;
        }
        if (event.status() == JobStatus.SUCCEEDED) {
            LOG.infof("job %s: succeeded, evaluating adapter %s", event.jobId(),
                    event.data() == null ? null : event.data().get("adapter"));
            evaluations.onSucceeded(event);
        } else if (event.status() == JobStatus.FAILED || event.status() == JobStatus.CANCELLED) {
            Object error = event.data() == null ? null : event.data().get("error");
            Object message = error instanceof java.util.Map<?, ?> m ? m.get("message") : error;
            evaluations.onJobEnded(event.jobId(), event.status().wire(), message == null ? null : message.toString());
        }
    }
}
