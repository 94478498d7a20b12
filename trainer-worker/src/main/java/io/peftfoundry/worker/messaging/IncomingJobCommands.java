package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.contracts.event.JobRequested;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads job requests (shared by the {@code trainer-workers} group) and control messages (seen by every worker). For
 * now each message is parsed, logged and counted in {@code foundry.messages.consumed}; training comes with the
 * trainer feature. A message that does not parse is nacked, which sends it to the channel's dead-letter topic.
 */
@ApplicationScoped
public class IncomingJobCommands {

    private static final Logger LOG = Logger.getLogger(IncomingJobCommands.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;

    public IncomingJobCommands(ObjectMapper mapper, MeterRegistry registry) {
        this.mapper = mapper;
        this.registry = registry;
    }

    @Incoming("job-requests")
    public void onJobRequested(ConsumerRecord<String, String> record) throws JsonProcessingException {
        JobRequested request = mapper.readValue(record.value(), JobRequested.class);
        LOG.debugf("job %s: requested (attempt %d, tenant %s)", record.key(), request.attempt(), request.tenant());
        consumed("job-requests");
    }

    @Incoming("job-control")
    public void onJobControl(ConsumerRecord<String, String> record) throws JsonProcessingException {
        JobControl control = mapper.readValue(record.value(), JobControl.class);
        LOG.debugf("job %s: control %s", record.key(), control.action());
        consumed("job-control");
    }

    private void consumed(String channel) {
        registry.counter("foundry.messages.consumed", "channel", channel).increment();
    }
}
