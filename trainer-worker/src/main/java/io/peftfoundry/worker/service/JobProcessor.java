package io.peftfoundry.worker.service;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.artifacts.client.ArtifactStoreException;
import io.peftfoundry.contracts.event.ControlAction;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.engine.job.Devices;
import io.peftfoundry.engine.job.JobInputException;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.worker.config.WorkerConfig;
import io.peftfoundry.worker.lease.CancellationRepository;
import io.peftfoundry.worker.lease.LeaseRepository;
import io.peftfoundry.worker.lease.OutcomeRepository;
import io.peftfoundry.worker.queue.JobQueue;
import io.peftfoundry.worker.queue.RunEndings;
import io.peftfoundry.worker.messaging.EventOutboxRelay;
import io.peftfoundry.worker.messaging.JobEventPublisher;
import io.peftfoundry.worker.messaging.JobEvents;
import io.peftfoundry.worker.training.TrainingRun;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Runs one claimed job to the end of its run on this worker: attempt, fetch, train, events, checkpoints, adapter, and
 * the ending (outcome + status event + queue state + lease release in one transaction, {@link RunEndings}). The claim
 * ({@link JobQueue#claim}) already took the lease.
 */
@ApplicationScoped
public class JobProcessor {

    /** How the run ended for this worker. */
    public enum Disposition {
        /** The job reached a terminal or paused state, recorded with its status event: it left the queue. */
        ENDED,
        /**
         * The job stays queued for any worker: this one lost the lease (taken over), shuts down (lease released), or
         * could not publish that the job runs (Kafka away; lease released, no attempt counted).
         */
        HANDED_BACK
    }

    private static final Logger LOG = Logger.getLogger(JobProcessor.class);

    private final WorkerConfig config;
    private final LeaseRepository leases;
    private final OutcomeRepository outcomes;
    private final CancellationRepository cancellations;
    private final RunEndings endings;
    private final EventOutboxRelay relay;
    private final JobEventPublisher publisher;
    private final ControlRequests controls;
    private final WorkerMetrics metrics;
    private final ArtifactClient artifacts;
    private final String workerId;
    private final Path dataDir;
    private final ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lease-renewer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    /** Jobs whose lease this worker is giving up: a failed renewal of those is expected, not a takeover. */
    private final java.util.Set<String> releasing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public JobProcessor(WorkerConfig config, LeaseRepository leases, OutcomeRepository outcomes,
                        CancellationRepository cancellations, RunEndings endings, EventOutboxRelay relay,
                        JobEventPublisher publisher, ControlRequests controls, WorkerMetrics metrics) {
        this.config = config;
        this.leases = leases;
        this.outcomes = outcomes;
        this.cancellations = cancellations;
        this.endings = endings;
        this.relay = relay;
        this.publisher = publisher;
        this.controls = controls;
        this.metrics = metrics;
        this.workerId = config.id().orElseGet(() -> hostName() + "-" + ProcessHandle.current().pid());
        this.dataDir = Path.of(config.dataDir());
        this.artifacts = new ArtifactClient(config.artifactStoreUrl(), config.apiKey().orElse(""));
    }

    public String workerId() {
        return workerId;
    }

    /** Asks a running job to stop at its next step and hand the job back (its lease released, offset not committed). */
    public void shutdown() {
        shuttingDown.set(true);
        renewer.shutdownNow();
    }

    /** Runs a claimed job (its lease is ours) until it ends here or is handed back to the queue. */
    public Disposition process(JobQueue.Claim claim) throws SQLException {
        JobRequested request = claim.request();
        String jobId = request.jobId();
        controls.started(jobId);
        try {
            Optional<JobStatus> done = outcomes.terminalStatus(jobId);
            if (done.isPresent()) {
                LOG.infof("job %s: already %s, request of attempt %d skipped", jobId, done.get().wire(),
                        request.attempt());
                endings.alreadyEnded(jobId, workerId);
                return Disposition.ENDED;
            }
            if (controls.requested(jobId) == ControlAction.CANCEL || cancellations.isCancelled(jobId)) {
                return cancelledBeforeStart(request);
            }
            return run(request, claim.previous());
        } finally {
            controls.clear(jobId);
        }
    }

    private Disposition run(JobRequested request, LeaseRepository.Previous previous) throws SQLException {
        String jobId = request.jobId();
        int attempt = request.attempt();
        int failures = 0;
        boolean previousLost = false;
        if (previous != null) {
            // every new run of a job gets a higher attempt than any before, so event seqs keep increasing
            attempt = Math.max(attempt, previous.attempt() + 1);
            failures = previous.failures();
            previousLost = !previous.released();
            if (previousLost) {
                failures++;
            }
        }
        leases.update(jobId, workerId, attempt, failures);
        metrics.busy(true);
        AtomicBoolean leaseLost = new AtomicBoolean();
        var renewal = renewer.scheduleWithFixedDelay(() -> {
            try {
                if (!leases.renew(jobId, workerId, config.leaseTtl()) && !releasing.contains(jobId)) {
                    LOG.warnf("job %s: lease lost (another worker took it over); stopping", jobId);
                    leaseLost.set(true);
                }
            } catch (Exception e) {
                LOG.warnf("job %s: lease renewal failed: %s", jobId, e.getMessage());
            }
        }, config.leaseRenewEvery().toMillis(), config.leaseRenewEvery().toMillis(), TimeUnit.MILLISECONDS);
        try {
            String why = previousLost ? "previous worker lost" : null;
            // what ended the last failed attempt, so "failed N times" can say why (class: message, and the field)
            AttemptError lastError = previousLost ? new AttemptError("attempt " + previous.attempt() + " on worker "
                    + previous.workerId() + " was lost (its lease expired without a result)", null) : null;
            while (true) {
                JobEvents events = new JobEvents(publisher, jobId, attempt);
                if (failures >= config.maxAttempts()) {
                    String message = "the job was lost or failed " + failures + " times (foundry.worker.max-attempts = "
                            + config.maxAttempts() + ")" + (lastError == null ? "" : "; last error: " + lastError.text());
                    return fail(request, events, "max_attempts_exceeded", message,
                            lastError == null ? null : lastError.param());
                }
                try {
                    return runOnce(request, events, why, leaseLost);
                } catch (JobEvents.EventsUnavailableException e) {
                    // not the job's fault: hand it back uncounted; a worker retries once Kafka answers again
                    LOG.warnf("job %s: %s; handed back to the queue", jobId, e.getMessage());
                    release(jobId);
                    return Disposition.HANDED_BACK;
                } catch (JobInputException e) {
                    // the engine checked the inputs before any training and named the spec field: no retry can help
                    boolean data = e.field().equals("training_file") || e.field().equals("validation_file");
                    return fail(request, events, data ? "invalid_dataset" : "invalid_spec", e.getMessage(), e.field());
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    return fail(request, events, "invalid_spec", e.getMessage(), null);
                } catch (ArtifactStoreException e) {
                    if (e.status() == 404) {
                        return fail(request, events, "artifact_not_found", e.getMessage(), null);
                    }
                    if (!retryable(e.status())) {
                        // artifact-store refused what we sent (e.g. an invalid adapter): sending it again cannot help
                        return fail(request, events, "artifact_rejected", AttemptError.of(e, null).text(), null);
                    }
                    LOG.errorf("job %s: attempt %d failed: %s", jobId, attempt, e.getMessage());
                    failures++;
                    lastError = AttemptError.of(e, null);
                    why = "previous attempt failed: " + e.getMessage();
                } catch (Exception e) {
                    LOG.errorf(e, "job %s: attempt %d failed", jobId, attempt);
                    failures++;
                    lastError = AttemptError.of(e, null);
                    why = "previous attempt failed: " + e.getMessage();
                }
                if (leaseLost.get()) {
                    return Disposition.HANDED_BACK;
                }
                if (shuttingDown.get()) {
                    release(jobId);
                    return Disposition.HANDED_BACK;
                }
                attempt++;
                leases.update(jobId, workerId, attempt, failures);
            }
        } finally {
            renewal.cancel(false);
            releasing.remove(jobId);
            metrics.busy(false);
        }
    }

    private Disposition runOnce(JobRequested request, JobEvents events, String why, AtomicBoolean leaseLost)
            throws Exception {
        String jobId = request.jobId();
        JobSpec spec = request.spec().withDefaults();
        if (controls.requested(jobId) == ControlAction.CANCEL) {
            return cancelled(request, events, 0);
        }
        Path work = dataDir.resolve("worker-jobs").resolve(jobId).resolve("attempt-" + events.attempt());
        Path cache = dataDir.resolve("worker-cache");
        deleteTree(work);
        Files.createDirectories(work);
        try {
            Device device = Devices.select(config.device());
            events.status(JobStatus.RUNNING, Map.of("worker", workerId, "device", device.toString()));
            LOG.infof("job %s: attempt %d running on %s (%s)", jobId, events.attempt(), workerId, device);

            // where to resume from: an explicit resume (after pause), else the newest checkpoint of a run before
            JsonNode checkpoint = null;
            if (request.resumeFrom() != null) {
                checkpoint = artifacts.getCheckpoint(request.resumeFrom());
            } else if (why != null || events.attempt() > 1) {
                checkpoint = artifacts.latestCheckpoint(jobId, request.tenant()).orElse(null);
            }
            Path resumeDir = null;
            if (checkpoint != null) {
                resumeDir = artifacts.downloadCheckpoint(checkpoint, cache, work.resolve("resume"));
                events.message("attempt " + events.attempt() + " resumes from checkpoint "
                        + checkpoint.path("id").asText() + " at step " + checkpoint.path("step").asLong()
                        + (why != null ? " (" + why + ")" : ""));
            } else if (why != null) {
                events.message("attempt " + events.attempt() + " starts from step 0 (" + why
                        + "; no checkpoint had been saved)");
            }

            JsonNode trainingMeta = artifacts.getFile(spec.trainingFile());
            Path trainingFile = artifacts.downloadFile(spec.trainingFile(), cache);
            Path validationFile = spec.validationFile() == null ? null
                    : artifacts.downloadFile(spec.validationFile(), cache);
            Path modelDir = artifacts.downloadModel(spec.model(), request.tenant(), cache, work.resolve("model"));
            Path initAdapter = spec.initAdapter() == null ? null
                    : artifacts.downloadAdapter(spec.initAdapter(), cache, work.resolve("init-adapter"));

            RunListener listener = new RunListener(request, events, leaseLost);
            TrainingRun.Outcome outcome = new TrainingRun(spec, device).run(modelDir, trainingFile, validationFile,
                    initAdapter, resumeDir, work.resolve("adapter"), listener);
            if (listener.uploadError.get() != null) {
                throw listener.uploadError.get();
            }
            if (leaseLost.get()) {
                LOG.warnf("job %s: stopped after losing the lease; the other worker continues", jobId);
                return Disposition.HANDED_BACK;
            }
            long step = outcome.result().steps();
            if (outcome.stoppedByRequest()) {
                ControlAction action = controls.requested(jobId);
                if (action == ControlAction.CANCEL) {
                    return cancelled(request, events, step);
                }
                if (action == ControlAction.PAUSE) {
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("checkpoint_id", listener.lastCheckpointId.get());
                    data.put("step", step);
                    releasing.add(jobId);
                    endings.paused(workerId, events.statusEvent(JobStatus.PAUSED, data));
                    relay.kick();
                    LOG.infof("job %s: paused at step %d (checkpoint %s)", jobId, step, listener.lastCheckpointId.get());
                    return Disposition.ENDED;
                }
                // shutting down: the job stays queued with its lease released, so any free worker claims it at once
                events.message("worker " + workerId + " shut down at step " + step
                        + "; the job continues from checkpoint " + listener.lastCheckpointId.get());
                release(jobId);
                return Disposition.HANDED_BACK;
            }

            Map<String, String> lineage = new LinkedHashMap<>();
            lineage.put("job_id", jobId);
            lineage.put("base_model", spec.model());
            lineage.put("method", spec.method().type().wire());
            lineage.put("dataset_digest", trainingMeta.path("digest").asText(null));
            lineage.put("parent_adapter", spec.initAdapter());
            JsonNode adapter = artifacts.uploadAdapter(work.resolve("adapter"), lineage, request.tenant());
            String adapterId = adapter.path("id").asText();

            Map<String, Object> data = new LinkedHashMap<>();
            data.put("adapter", adapterId);
            data.put("step", step);
            data.put("total_steps", outcome.result().totalSteps());
            data.put("trained_tokens", outcome.result().tokens());
            data.put("trainable_parameters", outcome.trainableParameters());
            data.put("total_parameters", outcome.totalParameters());
            data.put("train_seconds", outcome.result().trainSeconds());
            data.put("tokens_per_second", outcome.result().tokensPerSecond());
            if (outcome.peakRssBytes() > 0) {
                data.put("peak_rss_bytes", outcome.peakRssBytes());
            }
            if (outcome.startRssBytes() > 0) {
                // the RSS when the run began: peak_rss_bytes - start_rss_bytes is what this job added
                data.put("start_rss_bytes", outcome.startRssBytes());
            }
            data.put("stop_reason", outcome.result().stopReason());
            if (!outcome.result().losses().isEmpty()) {
                data.put("final_loss", outcome.result().losses().get(outcome.result().losses().size() - 1));
            }
            if (outcome.evalData() != null) {
                data.put("eval", outcome.evalData());
            }
            releasing.add(jobId);
            endings.terminal(workerId, new RunEndings.Outcome(JobStatus.SUCCEEDED, events.attempt(), adapterId, null),
                    events.statusEvent(JobStatus.SUCCEEDED, data));
            relay.kick();
            LOG.infof("job %s: succeeded at step %d, adapter %s", jobId, step, adapterId);
            return Disposition.ENDED;
        } finally {
            deleteTree(work);
        }
    }

    /**
     * The job was cancelled while its request waited (queued): it is not started, no lease is taken and no
     * {@code running} event goes out; the outcome is recorded so any later delivery is skipped as well.
     */
    private Disposition cancelledBeforeStart(JobRequested request) throws SQLException {
        endings.terminal(workerId, new RunEndings.Outcome(JobStatus.CANCELLED, request.attempt(), null, null),
                new JobEvents(publisher, request.jobId(), request.attempt()).statusEvent(JobStatus.CANCELLED,
                        Map.of("step", 0, "message", "cancelled before it started; the request was skipped")));
        relay.kick();
        LOG.infof("job %s: cancelled while queued, request of attempt %d skipped", request.jobId(), request.attempt());
        return Disposition.ENDED;
    }

    /** 4xx answers other than timeout, conflict and rate limit are the store's final word on what we sent. */
    static boolean retryable(int status) {
        return status >= 500 || status == 408 || status == 409 || status == 429;
    }

    /** The cause of a failed attempt as the job's error shows it: exception class and message, and the spec field if known. */
    record AttemptError(String text, String param) {
        private static final int MAX_CHARS = 2000;

        static AttemptError of(Throwable e, String param) {
            String message = e.getMessage() == null ? "(no message)" : e.getMessage();
            Throwable cause = e.getCause();
            if (cause != null && cause != e && cause.getMessage() != null && !message.contains(cause.getMessage())) {
                message += " (caused by " + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")";
            }
            String text = e.getClass().getSimpleName() + ": " + message;
            return new AttemptError(text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) + "…" : text, param);
        }
    }

    private Disposition cancelled(JobRequested request, JobEvents events, long step) throws SQLException {
        releasing.add(request.jobId());
        endings.terminal(workerId, new RunEndings.Outcome(JobStatus.CANCELLED, events.attempt(), null, null),
                events.statusEvent(JobStatus.CANCELLED, Map.of("step", step)));
        relay.kick();
        LOG.infof("job %s: cancelled at step %d", request.jobId(), step);
        return Disposition.ENDED;
    }

    private Disposition fail(JobRequested request, JobEvents events, String code, String message, String param)
            throws SQLException {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        error.put("param", param);
        releasing.add(request.jobId());
        endings.terminal(workerId, new RunEndings.Outcome(JobStatus.FAILED, events.attempt(), null,
                code + ": " + message), events.statusEvent(JobStatus.FAILED, Map.of("error", error)));
        relay.kick();
        LOG.warnf("job %s: failed (%s): %s", request.jobId(), code, message);
        return Disposition.ENDED;
    }

    private void release(String jobId) throws SQLException {
        releasing.add(jobId);
        leases.release(jobId, workerId);
    }

    /** Publishes progress, uploads checkpoints and answers the loop's "stop?" question after every step. */
    private final class RunListener implements TrainingListener {
        private final JobRequested request;
        private final JobEvents events;
        private final AtomicBoolean leaseLost;
        private final AtomicReference<String> lastCheckpointId = new AtomicReference<>();
        private final AtomicReference<IOException> uploadError = new AtomicReference<>();
        private long lastMetricsNanos = System.nanoTime();
        private final long startNanos = System.nanoTime();
        private long firstStep = -1;
        /** The run's step count as of its last step (its evaluation events carry it too). */
        private long totalSteps = -1;

        RunListener(JobRequested request, JobEvents events, AtomicBoolean leaseLost) {
            this.request = request;
            this.events = events;
            this.leaseLost = leaseLost;
        }

        @Override
        public void onStep(long step, long totalSteps, int epoch, double loss, double learningRate,
                           double tokensPerSecond, double etaSeconds) {
            if (firstStep < 0) {
                firstStep = step;
            }
            this.totalSteps = totalSteps;
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            metrics.stepsPerSecond((step - firstStep + 1) / Math.max(seconds, 1e-9));
            boolean due = step == firstStep || step % config.metricsEverySteps() == 0 || step == totalSteps
                    || System.nanoTime() - lastMetricsNanos >= config.metricsEvery().toNanos();
            if (!due) {
                return;
            }
            lastMetricsNanos = System.nanoTime();
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("step", step);
            data.put("total_steps", totalSteps);
            data.put("epoch", epoch);
            data.put("loss", finite(loss));
            data.put("learning_rate", learningRate);
            data.put("tokens_per_second", finite(tokensPerSecond));
            data.put("eta_seconds", finite(etaSeconds));
            data.put("attempt", events.attempt());
            events.metrics(data);
        }

        private Map<String, Object> evalEvent(long step, Map<String, Object> eval) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("step", step);
            if (totalSteps > 0) {
                data.put("total_steps", totalSteps);
            }
            data.put("eval", eval);
            data.put("attempt", events.attempt());
            return data;
        }

        @Override
        public void onEval(long step, EvalResult result) {
            events.metrics(evalEvent(step, TrainingRun.evalData(result)));
        }

        @Override
        public void onCausalEval(long step, io.peftfoundry.engine.task.causal.CausalEvaluator.Metrics result) {
            events.metrics(evalEvent(step, TrainingRun.evalData(result)));
        }

        @Override
        public void onCheckpoint(long step, Path directory) {
            try {
                JsonNode ckpt = artifacts.uploadCheckpoint(request.jobId(), events.attempt(), step, directory,
                        request.tenant());
                String id = ckpt.path("id").asText();
                lastCheckpointId.set(id);
                events.checkpoint(id, step);
                LOG.infof("job %s: checkpoint %s at step %d", request.jobId(), id, step);
            } catch (IOException e) {
                LOG.warnf("job %s: checkpoint at step %d not uploaded: %s", request.jobId(), step, e.getMessage());
                uploadError.compareAndSet(null, e);
            } finally {
                deleteTree(directory);
            }
        }

        @Override
        public boolean stopRequested() {
            return controls.requested(request.jobId()) != null || leaseLost.get() || shuttingDown.get()
                    || uploadError.get() != null;
        }
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debugf("could not delete %s: %s", dir, e.getMessage());
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "worker";
        }
    }

    /** How long before the lease of a dead worker can be taken over (for logs and docs). */
    public Duration leaseTtl() {
        return config.leaseTtl();
    }
}
