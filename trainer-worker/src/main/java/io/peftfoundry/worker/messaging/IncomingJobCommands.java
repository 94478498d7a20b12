package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.contracts.event.ControlAction;
import io.peftfoundry.worker.lease.CancellationRepository;
import io.peftfoundry.worker.service.ControlRequests;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.sql.SQLException;

/**
 * Reads control messages (every worker sees every one: a consumer group per instance) and hands them to
 * {@link ControlRequests}, where the training loop of the job finds them after its current step. A message that does
 * not parse is nacked, which sends it to the channel's dead-letter topic. Job requests are read by
 * {@link JobRequestConsumer}.
 *
 * <p>A cancel is also recorded in {@link CancellationRepository}, so the job's request is skipped wherever it lands
 * later (cancelled while queued). Two channels read the control topic: {@code job-control} (a group per worker, from
 * the latest offset: live requests for the job this worker trains) and {@code job-control-log} (one group for all
 * workers, committed offsets: every cancel is recorded once, also those sent while no worker was up).
 */
@ApplicationScoped
public class IncomingJobCommands {

    private static final Logger LOG = Logger.getLogger(IncomingJobCommands.class);

    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final ControlRequests controls;
    private final CancellationRepository cancellations;

    public IncomingJobCommands(ObjectMapper mapper, MeterRegistry registry, ControlRequests controls,
                               CancellationRepository cancellations) {
        this.mapper = mapper;
        this.registry = registry;
        this.controls = controls;
        this.cancellations = cancellations;
    }

    @Incoming("job-control")
    @Blocking
    public void onJobControl(ConsumerRecord<String, String> record) throws JsonProcessingException, SQLException {
        JobControl control = parse(record);
        LOG.infof("job %s: control %s", control.jobId(), control.action().wire());
        if (control.action() == ControlAction.CANCEL) {
            // before the in-memory request: a request that finds no cancel here then finds it in the table
            cancellations.record(control.jobId());
        }
        controls.request(control.jobId(), control.action());
        registry.counter("foundry.messages.consumed", "channel", "job-control").increment();
    }

    @Incoming("job-control-log")
    @Blocking
    public void onJobControlLog(ConsumerRecord<String, String> record) throws JsonProcessingException, SQLException {
        JobControl control = parse(record);
        if (control.action() == ControlAction.CANCEL) {
            cancellations.record(control.jobId());
        }
        registry.counter("foundry.messages.consumed", "channel", "job-control-log").increment();
    }

    private JobControl parse(ConsumerRecord<String, String> record) throws JsonProcessingException {
        JobControl control = mapper.readValue(record.value(), JobControl.class);
        if (control.jobId() == null || control.action() == null) {
            throw new IllegalArgumentException("job_id and action are required");
        }
        return control;
    }
}
