package io.peftfoundry.eval.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.JobEvent;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads job events (group {@code eval-service}). For now each event is parsed, logged and counted in
 * {@code foundry.messages.consumed}; evaluating finished adapters comes with the evaluation feature. An event that
 * does not parse is nacked, which sends it to the dead-letter topic.
 */
@ApplicationScoped
public class IncomingJobEvents {

    private static final Logger LOG = Logger.getLogger(IncomingJobEvents.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;

    public IncomingJobEvents(ObjectMapper mapper, MeterRegistry registry) {
        this.mapper = mapper;
        this.registry = registry;
    }

    @Incoming("job-events")
    public void onJobEvent(ConsumerRecord<String, String> record) throws JsonProcessingException {
        JobEvent event = mapper.readValue(record.value(), JobEvent.class);
        LOG.debugf("job %s: event seq %d type %s status %s", record.key(), event.seq(), event.type(), event.status());
        registry.counter("foundry.messages.consumed", "channel", "job-events").increment();
    }
}
