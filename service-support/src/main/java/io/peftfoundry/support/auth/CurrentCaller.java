package io.peftfoundry.support.auth;

import io.peftfoundry.support.problem.ProblemException;
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

    public String tenant() {
        return get().tenant();
    }

    /** The key as presented, forwarded to the other services so they check the same tenant. */
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
