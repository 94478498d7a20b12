package io.peftfoundry.eval.service;

/** An evaluation that cannot be done; the message is stored as the evaluation's reason and shown to users. */
public class EvaluationFailure extends Exception {

    public EvaluationFailure(String message) {
        super(message);
    }

    public EvaluationFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
