package io.peftfoundry.support.client;

/**
 * Another service answered a typed REST client's call with an error status ({@link ServiceCallExceptions} builds it
 * from the answer's problem+json). {@link #transientFailure()} (5xx, 429) is what the clients retry.
 */
public class ServiceCallException extends RuntimeException {

    private final int status;
    private final String detail;

    public ServiceCallException(int status, String detail) {
        super("HTTP " + status + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.status = status;
        this.detail = detail;
    }

    public int status() {
        return status;
    }

    /** The {@code detail} of the answer's problem+json, or its body. */
    public String detail() {
        return detail;
    }

    public boolean transientFailure() {
        return status >= 500 || status == 429;
    }

    /** A 5xx or 429: the same call may succeed later. */
    public static class Transient extends ServiceCallException {
        public Transient(int status, String detail) {
            super(status, detail);
        }
    }
}
