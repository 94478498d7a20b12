package io.peftfoundry.engine.training;

/** Training produced a NaN/infinite loss or gradient: the run fails instead of training on garbage. */
public class NonFiniteLossException extends RuntimeException {
    public NonFiniteLossException(String message) {
        super(message);
    }
}
