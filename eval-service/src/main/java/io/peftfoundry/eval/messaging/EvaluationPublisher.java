package io.peftfoundry.eval.messaging;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.EvaluationCompleted;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import java.util.concurrent.CompletionStage;

/** Sends {@link EvaluationCompleted} to {@link Topics#EVAL_RESULTS} (channel {@code eval-results}), keyed by job id. */
@ApplicationScoped
public class EvaluationPublisher {

    private final Emitter<Record<String, EvaluationCompleted>> emitter;

    public EvaluationPublisher(@Channel("eval-results") Emitter<Record<String, EvaluationCompleted>> emitter) {
        this.emitter = emitter;
    }

    /** Completes once the broker has acknowledged the result. */
    public CompletionStage<Void> publish(EvaluationCompleted result) {
        return emitter.send(Record.of(result.jobId(), result));
    }
}
