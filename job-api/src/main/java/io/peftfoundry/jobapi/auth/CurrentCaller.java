package io.peftfoundry.jobapi.auth;

import io.peftfoundry.jobapi.rest.ProblemException;
import jakarta.enterprise.context.RequestScoped;

/** The caller of the current request and the bearer key it presented (set by {@link BearerAuthFilter}). */
@RequestScoped
public class CurrentCaller {

    private Caller caller;
    private String bearerKey;

    void set(Caller caller, String bearerKey) {
        this.caller = caller;
        this.bearerKey = bearerKey;
    }

    public Caller get() {
        if (caller == null) {
            throw ProblemException.unauthorized("an API key is required: Authorization: Bearer <key>");
        }
        return caller;
    }

    /** The key as presented, forwarded to artifact-store so it checks the same tenant. */
    public String bearerKey() {
        get();
        return bearerKey;
    }

    public Caller requireAdmin() {
        Caller c = get();
        if (!c.admin()) {
            throw ProblemException.forbidden("this endpoint needs an admin key");
        }
        return c;
    }
}
