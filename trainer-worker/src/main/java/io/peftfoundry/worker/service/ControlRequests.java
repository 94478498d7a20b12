package io.peftfoundry.worker.service;

import io.peftfoundry.contracts.event.ControlAction;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cancel/pause requests seen on {@code foundry.jobs.control}, by job id. Every worker sees every control message; the
 * one training the job finds its request here after the current step.
 *
 * <p>A pause concerns the run in progress (job-api only pauses a {@code running} job), so it is kept only for a job
 * this worker runs right now; kept for every job, a pause that another worker carried out stayed here and paused the
 * job again the moment this worker later claimed its resumed run. A cancel is final and kept for any job (it is also
 * recorded in {@code worker.job_cancellations}). Starting a run ({@link #started}) drops what an earlier run left.
 */
@ApplicationScoped
public class ControlRequests {

    private final Map<String, ControlAction> requests = new ConcurrentHashMap<>();
    private final Set<String> running = ConcurrentHashMap.newKeySet();

    public void request(String jobId, ControlAction action) {
        if (action == ControlAction.PAUSE && !running.contains(jobId)) {
            return;
        }
        // cancel wins over pause
        requests.merge(jobId, action, (old, neu) -> old == ControlAction.CANCEL ? old : neu);
    }

    /** A run of the job starts here: a pause meant for an earlier run (here or elsewhere) no longer applies. */
    public void started(String jobId) {
        running.add(jobId);
        requests.computeIfPresent(jobId, (k, v) -> v == ControlAction.CANCEL ? v : null);
    }

    public ControlAction requested(String jobId) {
        return requests.get(jobId);
    }

    public void clear(String jobId) {
        running.remove(jobId);
        requests.remove(jobId);
    }
}
