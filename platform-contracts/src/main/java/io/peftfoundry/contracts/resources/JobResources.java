package io.peftfoundry.contracts.resources;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * What a worker must offer to claim a job: it loads {@code family} and offers at least {@code memoryBytes} to a job
 * (see {@link WorkerCapabilities}); and how long the job is expected to train. Carried by
 * {@code JobRequested.resources}.
 *
 * @param family           the model's {@code model_type} ({@code bert}, {@code gpt2}, {@code llama} …); null = any
 *                         worker
 * @param memoryBytes      the job's estimated peak memory ({@link MemoryEstimate#peakBytes()}); null = unknown, any
 *                         worker
 * @param estimatedSeconds the job's estimated training time ({@link DurationEstimate}); the workers take a tenant's
 *                         jobs of one priority longest first by it; null = unknown (counts as 0)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobResources(String family, Long memoryBytes, Double estimatedSeconds) {

    /** Without a duration estimate. */
    public JobResources(String family, Long memoryBytes) {
        this(family, memoryBytes, null);
    }
}
