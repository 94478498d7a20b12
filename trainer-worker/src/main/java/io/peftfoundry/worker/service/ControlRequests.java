package io.peftfoundry.worker.service;

import io.peftfoundry.contracts.event.ControlAction;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cancel/pause requests seen on {@code foundry.jobs.control}, by job id. Every worker sees every control message; the
 * one training the job finds its request here after the current step. Requests for jobs this worker is not running
 * are kept too (a pause may arrive while the job waits for its lease) and dropped when the job ends here.
 */
@ApplicationScoped
public class ControlRequests {

    private final Map<String, ControlAction> requests = new ConcurrentHashMap<>();

    public void request(String jobId, ControlAction action) {
        // cancel wins over pause
        requests.merge(jobId, action, (old, neu) -> old == ControlAction.CANCEL ? old : neu);
    }

    public ControlAction requested(String jobId) {
        return requests.get(jobId);
    }

    public void clear(String jobId) {
        requests.remove(jobId);
    }
}
