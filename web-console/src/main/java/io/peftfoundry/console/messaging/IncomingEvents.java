package io.peftfoundry.console.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.EvaluationCompleted;
import io.peftfoundry.contracts.event.JobEvent;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Follows job events and evaluation results (a consumer group per console instance, new messages only). For now each
 * message is parsed, logged and counted in {@code foundry.messages.consumed}; pushing them to browsers comes with the
 * console UI.
 * A message that does not parse is nacked, which sends it to the channel's dead-letter topic.
 */
@ApplicationScoped
public class IncomingEvents {

    private static final Logger LOG = Logger.getLogger(IncomingEvents.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;

    public IncomingEvents(ObjectMapper mapper, MeterRegistry registry) {
        this.mapper = mapper;
        this.registry = registry;
    }

    @Incoming("job-events")
    public void onJobEvent(ConsumerRecord<String, String> record) throws JsonProcessingException {
        JobEvent event = mapper.readValue(record.value(), JobEvent.class);
        LOG.debugf("job %s: event seq %d type %s status %s", record.key(), event.seq(), event.type(), event.status());
        consumed("job-events");
    }

    @Incoming("eval-results")
    public void onEvaluationCompleted(ConsumerRecord<String, String> record) throws JsonProcessingException {
        EvaluationCompleted result = mapper.readValue(record.value(), EvaluationCompleted.class);
        LOG.debugf("job %s: evaluation %s completed", record.key(), result.evaluationId());
        consumed("eval-results");
    }

    private void consumed(String channel) {
        registry.counter("foundry.messages.consumed", "channel", channel).increment();
    }
}
