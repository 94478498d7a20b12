package io.peftfoundry.support.messaging;

/**
 * A failure that a later attempt can get past (a dependency answered 503, a connection was refused): thrown by a
 * handler to say "retry me", where the exception type alone would not tell {@link Transients}.
 */
public class TransientFailure extends Exception {

    public TransientFailure(String message) {
        super(message);
    }

    public TransientFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
