package io.peftfoundry.eval.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.eval.config.EvalConfig;
import io.peftfoundry.eval.service.BaselineSubmitter;
import io.peftfoundry.support.client.ServiceCallException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import org.eclipse.microprofile.rest.client.inject.RestClient;

import java.io.IOException;

/**
 * Submits baselines to job-api ({@link JobApiJobs}) with the eval-service's service key, in the name of the adapter's
 * tenant ({@code Foundry-On-Behalf-Of}), so the baseline is that tenant's job.
 */
@ApplicationScoped
public class JobApiClient implements BaselineSubmitter {

    private final JobApiJobs jobs;
    private final EvalConfig config;

    public JobApiClient(@RestClient JobApiJobs jobs, EvalConfig config) {
        this.jobs = jobs;
        this.config = config;
    }

    @Override
    public String submit(ObjectNode spec, String idempotencyKey, String tenant) throws IOException {
        String key = config.adminKey().filter(k -> !k.isBlank()).orElseThrow(() -> new IOException(
                "no service key: set FOUNDRY_EVAL_SERVICE_KEY (or FOUNDRY_ADMIN_KEY) for the eval-service"));
        try {
            JsonNode created = jobs.create(spec, "Bearer " + key, idempotencyKey,
                    tenant == null || tenant.isBlank() ? null : tenant);
            return created.path("id").asText();
        } catch (ServiceCallException e) {
            throw new IOException("job-api refused the baseline job: " + e.getMessage(), e);
        } catch (ProcessingException e) {
            throw new IOException("job-api did not answer the baseline submission: " + e.getMessage(), e);
        }
    }
}
