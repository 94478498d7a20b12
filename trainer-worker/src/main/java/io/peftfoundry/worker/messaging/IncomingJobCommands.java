package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.worker.service.ControlRequests;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads control messages (every worker sees every one: a consumer group per instance) and hands them to
 * {@link ControlRequests}, where the training loop of the job finds them after its current step. A message that does
 * not parse is nacked, which sends it to the channel's dead-letter topic. Job requests are read by
 * {@link JobRequestConsumer}.
 */
@ApplicationScoped
public class IncomingJobCommands {

    private static final Logger LOG = Logger.getLogger(IncomingJobCommands.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final ControlRequests controls;

    public IncomingJobCommands(ObjectMapper mapper, MeterRegistry registry, ControlRequests controls) {
        this.mapper = mapper;
        this.registry = registry;
        this.controls = controls;
    }

    @Incoming("job-control")
    public void onJobControl(ConsumerRecord<String, String> record) throws JsonProcessingException {
        JobControl control = mapper.readValue(record.value(), JobControl.class);
        if (control.jobId() == null || control.action() == null) {
            throw new IllegalArgumentException("job_id and action are required");
        }
        LOG.infof("job %s: control %s", control.jobId(), control.action().wire());
        controls.request(control.jobId(), control.action());
        registry.counter("foundry.messages.consumed", "channel", "job-control").increment();
    }
}
