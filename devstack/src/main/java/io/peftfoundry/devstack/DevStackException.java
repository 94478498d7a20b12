package io.peftfoundry.devstack;

/** A component of the devstack could not be started, stopped or provisioned. */
public class DevStackException extends RuntimeException {

    public DevStackException(String message) {
        super(message);
    }

    public DevStackException(String message, Throwable cause) {
        super(message, cause);
    }
}
