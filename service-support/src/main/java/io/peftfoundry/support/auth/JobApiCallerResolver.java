package io.peftfoundry.support.auth;

import io.peftfoundry.support.client.JobApiAuthClient;
import io.peftfoundry.support.client.ServiceCallException;
import io.peftfoundry.support.problem.ProblemException;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

import java.util.Optional;

/**
 * Resolves keys by asking job-api, the key authority ({@link JobApiAuthClient}); job-api itself replaces this bean
 * with its database lookup. 401 → unknown key; 400/403 (a refused {@code Foundry-On-Behalf-Of}) → the same answer
 * here; unreachable after retries → 503.
 */
@DefaultBean
@ApplicationScoped
public class JobApiCallerResolver implements CallerResolver {

    private static final Logger LOG = Logger.getLogger(JobApiCallerResolver.class);

    private final JobApiAuthClient jobApi;

    public JobApiCallerResolver(@RestClient JobApiAuthClient jobApi) {
        this.jobApi = jobApi;
    }

    @Override
    public Optional<Caller> resolve(String bearerKey, String onBehalfOf) {
        try {
            JobApiAuthClient.Whoami w = jobApi.whoami("Bearer " + bearerKey, onBehalfOf);
            if (w == null || w.tenant() == null || w.tenant().isBlank()) {
                LOG.warn("job-api whoami answered without a tenant");
                return Optional.empty();
            }
            return Optional.of(w.toCaller());
        } catch (ServiceCallException e) {
            if (e.status() == 401) {
                return Optional.empty();
            }
            if (e.status() == 400 || e.status() == 403) {
                throw new ProblemException(e.status(), e.status() == 400 ? "Bad Request" : "Forbidden", e.detail());
            }
            LOG.warnf("cannot verify an API key with job-api: %s", e.getMessage());
            throw ProblemException.unavailable("the API key could not be verified: job-api answered " + e.status()
                    + "; retry shortly");
        } catch (ProcessingException e) {
            LOG.warnf("cannot verify an API key with job-api: %s", e.getMessage());
            throw ProblemException.unavailable("the API key could not be verified because job-api did not answer;"
                    + " retry shortly");
        }
    }
}
