package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.Topics;

/** A request to stop a job, on {@link Topics#JOBS_CONTROL} (key: job id). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record JobControl(String jobId, ControlAction action) {
}
