package io.peftfoundry.contracts.resources;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.Topics;

import java.time.Instant;
import java.util.List;

/**
 * What a trainer worker can run, on {@link Topics#WORKERS} (key: worker id; the newest message per worker wins). A
 * worker sends it when it starts, again every {@code foundry.worker.advertise-every}, and with {@code state = "down"}
 * when it stops cleanly. job-api refuses at submit a job that no worker seen recently can hold; the worker's claim
 * skips jobs it cannot hold.
 *
 * @param workerId    the worker's id (as in leases and {@code running} events)
 * @param device      {@code cpu} or {@code gpu}
 * @param memoryBytes memory the worker offers to one job's tensors (the device's memory, less what the worker process
 *                    itself holds); compared with {@link MemoryEstimate#peakBytes()}
 * @param families    model families ({@code model_type}) the worker can load, e.g. {@code ["bert", "gpt2", "llama"]}
 * @param state       {@code up} or {@code down}
 * @param at          when the worker sent it
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record WorkerCapabilities(String workerId, String device, long memoryBytes, List<String> families, String state,
                                 Instant at) {

    public static final String UP = "up";
    public static final String DOWN = "down";

    public WorkerCapabilities {
        families = families == null ? List.of() : List.copyOf(families);
    }

    /** Whether this worker can hold a job needing {@code resources} (a null requirement is met by any worker). */
    public boolean canHold(JobResources resources) {
        if (resources == null) {
            return true;
        }
        boolean family = resources.family() == null || families.contains(resources.family());
        boolean memory = resources.memoryBytes() == null || resources.memoryBytes() <= memoryBytes;
        return family && memory;
    }
}
