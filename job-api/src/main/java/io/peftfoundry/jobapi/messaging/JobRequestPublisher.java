package io.peftfoundry.jobapi.messaging;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobRequested;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import java.util.concurrent.CompletionStage;

/** Sends {@link JobRequested} to {@link Topics#JOBS_REQUESTED} (channel {@code job-requests}), keyed by job id. */
@ApplicationScoped
public class JobRequestPublisher {

    private final Emitter<Record<String, JobRequested>> emitter;

    public JobRequestPublisher(@Channel("job-requests") Emitter<Record<String, JobRequested>> emitter) {
        this.emitter = emitter;
    }

    /** Completes once the broker has acknowledged the message. */
    public CompletionStage<Void> publish(JobRequested request) {
        return emitter.send(Record.of(request.jobId(), request));
    }
}
