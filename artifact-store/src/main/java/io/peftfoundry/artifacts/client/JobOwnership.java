package io.peftfoundry.artifacts.client;

import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.client.ServiceCallException;
import io.peftfoundry.support.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/**
 * Whether a job belongs to a tenant, asked of job-api (the owner of jobs) with the caller's own key — and, for a
 * platform key writing for a tenant, {@code Foundry-On-Behalf-Of} that tenant — so only the job's tenant, or the worker
 * acting for it, may write the job's checkpoints.
 */
@ApplicationScoped
public class JobOwnership {

    private static final Logger LOG = Logger.getLogger(JobOwnership.class);

    private final JobApiJobs jobs;

    public JobOwnership(@RestClient JobApiJobs jobs) {
        this.jobs = jobs;
    }

    /** @throws ProblemException 403 when {@code jobId} is not {@code owner}'s job, 503 when job-api cannot say */
    public void requireOwned(Caller caller, String bearerKey, String jobId, String owner) {
        String onBehalfOf = owner.equals(caller.tenant()) ? null : owner;
        try {
            jobs.job(jobId, "Bearer " + bearerKey, onBehalfOf);
        } catch (ServiceCallException e) {
            if (e.status() == 404 || e.status() == 400 || e.status() == 401 || e.status() == 403) {
                LOG.warnf("key %s (tenant %s) refused: job %s is not tenant %s's (job-api answered %d)",
                        caller.keyId(), caller.tenant(), jobId, owner, e.status());
                throw ProblemException.forbidden("job '" + jobId + "' is not a job of tenant '" + owner
                        + "': only the job's tenant (or the platform acting for it) may write its checkpoints");
            }
            throw ProblemException.unavailable("job-api could not confirm who owns job '" + jobId + "' (HTTP "
                    + e.status() + "); retry shortly");
        } catch (ProcessingException e) {
            throw ProblemException.unavailable("job-api did not answer whether job '" + jobId + "' is tenant '" + owner
                    + "''s; retry shortly");
        }
    }
}
