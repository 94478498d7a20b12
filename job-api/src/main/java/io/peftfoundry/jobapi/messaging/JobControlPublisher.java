package io.peftfoundry.jobapi.messaging;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobControl;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import java.util.concurrent.CompletionStage;

/** Sends {@link JobControl} (cancel, pause) to {@link Topics#JOBS_CONTROL} (channel {@code job-control}). */
@ApplicationScoped
public class JobControlPublisher {

    private final Emitter<Record<String, JobControl>> emitter;

    public JobControlPublisher(@Channel("job-control") Emitter<Record<String, JobControl>> emitter) {
        this.emitter = emitter;
    }

    /** Completes once the broker has acknowledged the message. */
    public CompletionStage<Void> publish(JobControl control) {
        return emitter.send(Record.of(control.jobId(), control));
    }
}
