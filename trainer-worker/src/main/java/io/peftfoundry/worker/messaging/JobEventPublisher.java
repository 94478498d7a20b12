package io.peftfoundry.worker.messaging;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import java.util.concurrent.CompletionStage;

/** Sends {@link JobEvent}s to {@link Topics#JOBS_EVENTS} (channel {@code job-events}), keyed by job id. */
@ApplicationScoped
public class JobEventPublisher {

    private final Emitter<Record<String, JobEvent>> emitter;

    public JobEventPublisher(@Channel("job-events") Emitter<Record<String, JobEvent>> emitter) {
        this.emitter = emitter;
    }

    /** Completes once the broker has acknowledged the event. */
    public CompletionStage<Void> publish(JobEvent event) {
        return emitter.send(Record.of(event.jobId(), event));
    }
}
