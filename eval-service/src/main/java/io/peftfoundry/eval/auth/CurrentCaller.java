package io.peftfoundry.eval.auth;

import io.peftfoundry.eval.client.JobApiClient;
import jakarta.enterprise.context.RequestScoped;

/** The authenticated caller of the current request. */
@RequestScoped
public class CurrentCaller {

    private JobApiClient.Caller caller;
    private String apiKey;

    void set(JobApiClient.Caller caller, String apiKey) {
        this.caller = caller;
        this.apiKey = apiKey;
    }

    public String tenant() {
        return caller.tenant();
    }

    /** The caller's own key: used to fetch adapters from artifact-store, so its tenancy rules apply. */
    public String apiKey() {
        return apiKey;
    }
}
