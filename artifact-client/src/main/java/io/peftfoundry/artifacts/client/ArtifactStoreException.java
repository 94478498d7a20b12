package io.peftfoundry.artifacts.client;

import java.io.IOException;

/** A non-2xx answer from the artifact store; {@link #problem()} holds its problem+json body. */
public class ArtifactStoreException extends IOException {

    private final int status;
    private final String problem;

    public ArtifactStoreException(int status, String problem, String message) {
        super(message);
        this.status = status;
        this.problem = problem;
    }

    public int status() {
        return status;
    }

    /** The raw problem+json body (may be empty). */
    public String problem() {
        return problem;
    }
}
