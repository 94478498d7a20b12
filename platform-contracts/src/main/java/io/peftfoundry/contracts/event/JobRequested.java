package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.resources.JobResources;
import io.peftfoundry.contracts.spec.JobSpec;

/**
 * A job to train, on {@link Topics#JOBS_REQUESTED} (key: job id).
 *
 * @param jobId      e.g. {@code ftjob-…}
 * @param tenant     tenant id that owns the job (and its files and adapters)
 * @param attempt    1 for the first run, incremented for each retry or resume
 * @param spec       the validated spec with its defaults filled in
 * @param resumeFrom checkpoint artifact id to resume from, or null to start from scratch
 * @param resources  what a worker needs to hold the job (model family, estimated peak memory); null when unknown
 *                   (requests from before capacity-aware placement): then any worker may claim it
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobRequested(String jobId, String tenant, int attempt, JobSpec spec, String resumeFrom,
                           JobResources resources) {

    /** A request without resource requirements (any worker may claim it). */
    public JobRequested(String jobId, String tenant, int attempt, JobSpec spec, String resumeFrom) {
        this(jobId, tenant, attempt, spec, resumeFrom, null);
    }
}
