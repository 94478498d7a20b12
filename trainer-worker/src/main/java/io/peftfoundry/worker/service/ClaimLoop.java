package io.peftfoundry.worker.service;

import io.peftfoundry.worker.config.WorkerConfig;
import io.peftfoundry.worker.queue.JobQueue;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * This worker's one job thread: claim the best queued job ({@link JobQueue#claim}), run it, claim the next one at once.
 * Jobs this worker cannot hold ({@link WorkerCapacity}: estimated memory, model family) are skipped, left for a worker
 * that can. With nothing to claim it waits until {@link #wake} (a request was queued through this worker's consumer) or
 * {@code claim-poll-every} passes (a request queued through another worker's consumer, a lease that expired, a tenant
 * back under its quota).
 */
@ApplicationScoped
public class ClaimLoop {

    private static final Logger LOG = Logger.getLogger(ClaimLoop.class);

    private final JobQueue queue;
    private final JobProcessor processor;
    private final WorkerConfig config;
    private final WorkerCapacity capacity;
    private final Semaphore wake = new Semaphore(0);
    private final AtomicBoolean running = new AtomicBoolean();
    private Thread thread;

    public ClaimLoop(JobQueue queue, JobProcessor processor, WorkerConfig config, WorkerCapacity capacity) {
        this.capacity = capacity;
        this.queue = queue;
        this.processor = processor;
        this.config = config;
    }

    void onStart(@Observes StartupEvent ev) {
        if (!config.consume()) {
            return;
        }
        running.set(true);
        thread = new Thread(this::loop, "job-runner");
        thread.start();
        LOG.infof("worker %s claims queued jobs (idle poll every %s)", processor.workerId(), config.claimPollEvery());
    }

    void onStop(@Observes ShutdownEvent ev) {
        running.set(false);
        processor.shutdown();
        wake();
        try {
            if (thread != null) {
                // the running job stops at its next step, checkpoints and hands itself back
                thread.join(60_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Something may have become claimable: look now instead of at the next poll. */
    public void wake() {
        if (wake.availablePermits() == 0) {
            wake.release();
        }
    }

    private void loop() {
        while (running.get()) {
            try {
                Optional<JobQueue.Claim> claim = queue.claim(processor.workerId(), config.leaseTtl(),
                        capacity.capacity());
                if (claim.isPresent()) {
                    LOG.infof("job %s: claimed by %s (tenant %s, priority %s)", claim.get().request().jobId(),
                            processor.workerId(), claim.get().request().tenant(),
                            claim.get().request().spec().withDefaults().priority().wire());
                    if (processor.process(claim.get()) == JobProcessor.Disposition.HANDED_BACK && running.get()) {
                        // handed back because Kafka or the lease misbehaved: give the cause a moment
                        wake.tryAcquire(config.claimPollEvery().toMillis(), TimeUnit.MILLISECONDS);
                    }
                    wake.drainPermits();
                    continue;
                }
                wake.tryAcquire(config.claimPollEvery().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warnf("claiming or running a job failed: %s (next try in %s)", e.getMessage(),
                        config.claimPollEvery());
                try {
                    Thread.sleep(config.claimPollEvery().toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
