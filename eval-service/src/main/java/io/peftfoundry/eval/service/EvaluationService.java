package io.peftfoundry.eval.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.peftfoundry.contracts.event.EvaluationCompleted;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.eval.client.ArtifactFiles;
import io.peftfoundry.eval.config.EvalConfig;
import io.peftfoundry.eval.messaging.EvaluationPublisher;
import io.peftfoundry.eval.messaging.SpecFeed;
import io.peftfoundry.support.messaging.TransientFailure;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What happens when a job succeeds: one evaluation per (job, adapter), then the baseline (looked up, adopted or
 * submitted) and the comparison, published to {@code foundry.eval.results}. An evaluation is claimed under a lease
 * ({@code foundry.eval.evaluation-lease}) that its owner renews while it works; a transient failure to fetch an input
 * releases it for a retry instead of failing it, and one whose owner died is taken over once the lease runs out.
 */
@ApplicationScoped
public class EvaluationService {

    private static final Logger LOG = Logger.getLogger(EvaluationService.class);

    /** Numbers of the worker's {@code succeeded} event that comparisons use. */
    private static final List<String> JOB_NUMBERS = List.of("trainable_parameters", "total_parameters",
            "train_seconds", "tokens_per_second", "peak_rss_bytes", "trained_tokens", "adapter_bytes");

    private final EvalStore store;
    private final BaselineService baselines;
    private final EvaluationPublisher publisher;
    private final MeterRegistry registry;
    private final EvalConfig config;
    private final ArtifactFiles artifacts;
    private final BaselineSubmitter submitter;
    private final AdapterEvaluator evaluator;
    private final CounterpartService counterparts;
    private final SpecFeed specFeed;
    private final Map<String, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
    /** Evaluations running in this instance, whose leases it renews. */
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService leases;

    @Inject
    public EvaluationService(EvalStore store, BaselineService baselines, EvaluationPublisher publisher,
                             MeterRegistry registry, EvalConfig config, ArtifactFiles artifacts,
                             BaselineSubmitter submitter, CounterpartService counterparts,
                             SpecFeed specFeed) {
        this.specFeed = specFeed;
        this.store = store;
        this.counterparts = counterparts;
        this.baselines = baselines;
        this.publisher = publisher;
        this.registry = registry;
        this.config = config;
        this.artifacts = artifacts;
        this.submitter = submitter;
        this.evaluator = new PeftEngineEvaluator(artifacts, config.device());
    }

    void onStart(@Observes StartupEvent event) {
        Duration lease = config.evaluationLease();
        long every = Math.max(1_000, lease.toMillis() / 3);
        leases = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "evaluation-leases");
            t.setDaemon(true);
            return t;
        });
        leases.scheduleWithFixedDelay(this::renewAndTakeOver, every, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (leases != null) {
            leases.shutdownNow();
        }
    }

    /**
     * Handles a {@code status: succeeded} event.
     *
     * @throws TransientFailure an input could not be fetched for now: the claim is released ({@code pending}) and the
     *                          caller retries the event
     */
    public void onSucceeded(JobEvent event) throws SQLException, TransientFailure {
        String jobId = event.jobId();
        Optional<JobInfo> found = awaitSpec(jobId);
        if (found.isEmpty()) {
            LOG.warnf("job %s succeeded but foundry.jobs.requested holds no spec for it (read to its end, or waited %s):"
                    + " not evaluated", jobId, config.specWait());
            return;
        }
        JobInfo job = found.get();
        Map<String, Object> data = event.data() == null ? Map.of() : event.data();
        Object adapter = data.get("adapter");
        String adapterId = adapter == null || adapter.toString().isBlank() ? null : adapter.toString();
        Map<String, Object> jobNumbers = new LinkedHashMap<>();
        for (String k : JOB_NUMBERS) {
            if (data.get(k) instanceof Number n) {
                jobNumbers.put(k, n);
            }
        }
        String key = baselineKey(job);
        String candidateId = "eval-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        Optional<String> claimed = store.claimEvaluation(candidateId, job, adapterId, key, jobNumbers,
                config.evaluationLease());
        if (claimed.isEmpty()) {
            LOG.infof("job %s: adapter %s already evaluated, or being evaluated under a live lease (redelivered"
                    + " event): nothing to do", jobId, adapterId);
            return;
        }
        evaluate(claimed.get(), job, adapterId, key, jobNumbers);
    }

    /**
     * Every third of the lease: renews the claims of the evaluations running here, then takes over evaluations whose
     * owner is gone (left {@code running} or {@code pending} past the lease) and runs them again.
     */
    void renewAndTakeOver() {
        try {
            store.renewClaims(List.copyOf(inFlight));
            for (EvalStore.Abandoned a : store.takeOverAbandoned(config.evaluationLease(), 4)) {
                Optional<JobInfo> job = store.findSpec(a.jobId());
                if (job.isEmpty()) {
                    fail(a.jobId(), a.id(), "the spec of job " + a.jobId() + " is not known here: cannot evaluate");
                    continue;
                }
                LOG.infof("job %s: evaluation %s was left unfinished past its lease (%s): evaluating again", a.jobId(),
                        a.id(), config.evaluationLease());
                registry.counter("foundry.eval.taken_over").increment();
                try {
                    evaluate(a.id(), job.get(), a.adapterId(), a.baselineKey(), new LinkedHashMap<>(a.jobMetrics()));
                } catch (TransientFailure e) {
                    LOG.warnf("job %s: evaluation %s still cannot fetch its inputs (%s): released, tried again after"
                            + " the lease", a.jobId(), a.id(), e.getMessage());
                }
            }
        } catch (Exception e) {
            LOG.warnf("evaluation leases: %s; tried again at the next tick", e.toString());
        }
    }

    /** Runs a claimed evaluation to its end: scores, stores, compares and publishes. */
    private void evaluate(String evaluationId, JobInfo job, String adapterId, String key, Map<String, Object> jobNumbers)
            throws SQLException, TransientFailure {
        inFlight.add(evaluationId);
        try {
            evaluateClaimed(evaluationId, job, adapterId, key, jobNumbers);
        } finally {
            inFlight.remove(evaluationId);
        }
    }

    private void evaluateClaimed(String evaluationId, JobInfo job, String adapterId, String key,
                                 Map<String, Object> jobNumbers) throws SQLException, TransientFailure {
        String jobId = job.jobId();
        if (adapterId == null) {
            fail(jobId, evaluationId, "the succeeded event of job " + jobId + " names no adapter: nothing to evaluate");
            return;
        }
        AdapterEvaluator.Outcome outcome;
        try {
            outcome = evaluator.evaluate(job, adapterId);
        } catch (TransientFailure e) {
            store.release(evaluationId, "waiting to retry: " + e.getMessage());
            registry.counter("foundry.eval.transient_failures").increment();
            throw e;
        } catch (EvaluationFailure e) {
            fail(jobId, evaluationId, e.getMessage());
            if (job.isBaselineJob() && key != null) {
                store.baselineFailed(key, "evaluating the baseline failed: " + e.getMessage());
            }
            Optional<EvalStore.Counterpart> counterpart = store.counterpartByJob(jobId);
            if (counterpart.isPresent() && !"succeeded".equals(counterpart.get().status())) {
                store.counterpartFailed(counterpart.get().key(), "evaluating SFT-only job " + jobId + " failed: "
                        + e.getMessage());
            }
            return;
        }
        if (!jobNumbers.containsKey("adapter_bytes") && outcome.adapterBytes() > 0) {
            jobNumbers.put("adapter_bytes", outcome.adapterBytes());
        }
        store.succeed(evaluationId, outcome.metrics(), jobNumbers, outcome.correct(), outcome.causal());
        gauge("foundry_eval_score", jobId, outcome.metrics());
        if (key != null && "sft".equals(job.task())) {
            twoStageOrCounterpart(evaluationId, job, key, outcome);
        }

        if (key == null) {
            publish(jobId, evaluationId, outcome.metrics(), null);
            return;
        }
        if (job.isFull()) {
            // a full fine-tune on the key's data is its baseline: the one we submitted, or the tenant's own
            String placeholder = "base-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
            store.insertBaselineIfAbsent(placeholder, key, job, null, null);
            EvalStore.Baseline b = store.baselineByKey(key).orElseThrow();
            if (!"succeeded".equals(b.status())) {
                store.baselineSucceeded(key, jobId, evaluationId);
                LOG.infof("job %s: marked as the baseline for %s", jobId, key);
            }
            publish(jobId, evaluationId, outcome.metrics(), null);
            compareAllWaiting(key);
            return;
        }
        Optional<EvalStore.Baseline> baseline = store.baselineByKey(key);
        if (baseline.isPresent() && "succeeded".equals(baseline.get().status())) {
            Map<String, Object> comparison = compareOne(store.evaluation(evaluationId).orElseThrow(), baseline.get());
            publish(jobId, evaluationId, outcome.metrics(), comparison);
            return;
        }
        publish(jobId, evaluationId, outcome.metrics(), null);
        boolean needed = baseline.isEmpty() || "failed".equals(baseline.get().status());
        if (needed && config.submitBaselines()) {
            String[] digests = key.split("\\|");
            baselines.ensureBaseline(job, key, digests[1], digests[2], submitter);
        }
    }

    /** A failed or cancelled baseline job fails its baseline, so later adapters submit a new one. */
    public void onBaselineJobEnded(String jobId, String status) throws SQLException {
        onJobEnded(jobId, status, null);
    }

    /**
     * A failed or cancelled job fails the baseline or SFT-only counterpart it was (so the next completion submits a new
     * one), with the job's own error message when the event carries one.
     */
    public void onJobEnded(String jobId, String status, String errorMessage) throws SQLException {
        String why = errorMessage == null || errorMessage.isBlank() ? "" : ": " + errorMessage;
        Optional<EvalStore.Baseline> b = store.baselineByJob(jobId);
        if (b.isPresent() && !"succeeded".equals(b.get().status())) {
            store.baselineFailed(b.get().key(), "baseline job " + jobId + " " + status + why);
            LOG.infof("baseline %s: job %s %s", b.get().id(), jobId, status);
        }
        Optional<EvalStore.Counterpart> c = store.counterpartByJob(jobId);
        if (c.isPresent() && !"succeeded".equals(c.get().status())) {
            store.counterpartFailed(c.get().key(), "SFT-only job " + jobId + " " + status + why);
            LOG.infof("SFT-only counterpart %s: job %s %s", c.get().id(), jobId, status);
        }
    }

    /**
     * Issue 19. A two-stage sft adapter (its lineage holds a continued-pretraining stage) is compared with its SFT-only
     * counterpart, submitted here when there is none yet; an sft job without {@code init_adapter} is the counterpart
     * of every two-stage adapter with its key (the one submitted, or the tenant's own identical run) and completes
     * their comparisons.
     */
    private void twoStageOrCounterpart(String evaluationId, JobInfo job, String baselineKey,
                                       AdapterEvaluator.Outcome outcome) throws SQLException {
        String[] digests = baselineKey.split("\\|");
        String key = CounterpartService.keyOf(job, digests[1], digests[2]);
        boolean continues = job.spec().hasNonNull("init_adapter");
        if (continues && outcome.continuesPretraining()) {
            store.setCounterpart(evaluationId, key, PostPretraining.waiting(job.spec().path("init_adapter").asText(),
                    outcome.lineage()));
            Optional<EvalStore.Counterpart> c = store.counterpartByKey(key);
            if (c.isPresent() && "succeeded".equals(c.get().status())) {
                compareTwoStage(store.evaluation(evaluationId).orElseThrow(), c.get());
            } else if ((c.isEmpty() || "failed".equals(c.get().status())) && config.submitBaselines()) {
                counterparts.ensureCounterpart(job, key, submitter);
            }
        } else if (!continues) {
            String placeholder = "sftonly-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
            store.insertCounterpartIfAbsent(placeholder, key, job.tenant());
            EvalStore.Counterpart c = store.counterpartByKey(key).orElseThrow();
            if (!"succeeded".equals(c.status())) {
                store.counterpartSucceeded(key, job.jobId(), evaluationId);
                c = store.counterpartByKey(key).orElseThrow();
            }
            for (EvalStore.Evaluation twoStage : store.twoStageOf(key)) {
                compareTwoStage(twoStage, c);
            }
        }
    }

    private void compareTwoStage(EvalStore.Evaluation twoStage, EvalStore.Counterpart counterpart) throws SQLException {
        EvalStore.Evaluation sftOnly = store.evaluation(counterpart.evaluationId()).orElse(null);
        if (sftOnly == null || sftOnly.metrics() == null) {
            return;
        }
        Map<String, Object> block = PostPretraining.compare(twoStage.postPretraining(), sftOnly.jobId(), sftOnly.id(),
                twoStage.metrics(), store.causalOutcomes(twoStage.id()), sftOnly.metrics(),
                store.causalOutcomes(sftOnly.id()));
        store.setPostPretraining(twoStage.id(), block);
        LOG.infof("job %s: two-stage adapter compared with SFT-only job %s: delta %s, 95%% intervals %s", twoStage.jobId(),
                sftOnly.jobId(), block.get("delta"), block.get("delta_ci95"));
    }

    /** Every succeeded adapter evaluation of the key gets its comparison (after the baseline's own evaluation). */
    void compareAllWaiting(String key) throws SQLException {
        EvalStore.Baseline baseline = store.baselineByKey(key).orElseThrow();
        for (EvalStore.Evaluation e : store.comparable(key)) {
            if (e.comparison() != null && baseline.id().equals(e.baselineId())) {
                continue;
            }
            Map<String, Object> comparison = compareOne(e, baseline);
            publish(e.jobId(), e.id(), e.metrics(), comparison);
        }
    }

    private Map<String, Object> compareOne(EvalStore.Evaluation e, EvalStore.Baseline baseline) throws SQLException {
        EvalStore.Evaluation base = store.evaluation(baseline.evaluationId()).orElseThrow();
        Map<String, Object> comparison = new LinkedHashMap<>();
        comparison.put("baseline_job_id", base.jobId());
        comparison.put("baseline_evaluation_id", base.id());
        comparison.putAll(Comparisons.compare(e.metrics(), nn(e.jobMetrics()), store.exampleCorrect(e.id()),
                base.metrics(), nn(base.jobMetrics()), store.exampleCorrect(base.id())));
        store.setComparison(e.id(), baseline.id(), comparison);
        @SuppressWarnings("unchecked")
        Map<String, Object> delta = (Map<String, Object>) comparison.get("delta");
        gauge("foundry_eval_delta", e.jobId(), delta);
        LOG.infof("job %s: compared with baseline job %s: delta %s", e.jobId(), base.jobId(), delta);
        return comparison;
    }

    /** The baseline key of a classification job with a validation file, or null when it has none. */
    private String baselineKey(JobInfo job) throws TransientFailure {
        if (job.validationFile() == null || job.trainingFile() == null) {
            return null;
        }
        String td = digestOrId(job.trainingFile());
        String vd = digestOrId(job.validationFile());
        return BaselineService.keyOf(job, td, vd);
    }

    private String digestOrId(String fileId) throws TransientFailure {
        try {
            return artifacts.datasetDigest(fileId);
        } catch (java.io.IOException e) {
            if (PeftEngineEvaluator.isTransient(e)) {
                // keyed by id now, the evaluation would miss the baseline its digest shares: try again later
                throw new TransientFailure("no digest for file " + fileId + " for now: " + e.getMessage(), e);
            }
            // the same file id is the same content; only equal data under other ids misses the baseline
            LOG.warnf("no digest for file %s (%s): keyed by its id", fileId, e.getMessage());
            return "file:" + fileId;
        }
    }

    /**
     * The job's spec as {@link io.peftfoundry.eval.messaging.IncomingJobRequests} saved it, waiting for it at most
     * {@code foundry.eval.spec-wait} — and no longer than the spec feed still has unread requests: once
     * {@link SpecFeed#caughtUp} (checked every second) the spec will not arrive, and the events behind this one go on.
     */
    private Optional<JobInfo> awaitSpec(String jobId) throws SQLException {
        long deadline = System.nanoTime() + config.specWait().toNanos();
        long nextFeedCheck = System.nanoTime();
        while (true) {
            Optional<JobInfo> j = store.findSpec(jobId);
            if (j.isPresent() || System.nanoTime() > deadline) {
                return j;
            }
            if (System.nanoTime() >= nextFeedCheck) {
                if (specFeed.caughtUp()) {
                    // read again: the spec may have been saved and committed between the two reads
                    return store.findSpec(jobId);
                }
                nextFeedCheck = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    private void fail(String jobId, String evaluationId, String reason) throws SQLException {
        store.fail(evaluationId, reason);
        LOG.warnf("job %s: evaluation %s failed: %s", jobId, evaluationId, reason);
    }

    private void publish(String jobId, String evaluationId, Map<String, Object> metrics, Map<String, Object> comparison) {
        Map<String, Double> scalars = new LinkedHashMap<>();
        metrics.forEach((k, v) -> {
            Double d = Comparisons.number(v);
            if (d != null) {
                scalars.put(k, d);
            }
        });
        try {
            publisher.publish(new EvaluationCompleted(jobId, evaluationId, scalars, comparison))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("job %s: publishing evaluation %s failed: %s", jobId, evaluationId, e.toString());
        }
    }

    private void gauge(String name, String jobId, Map<String, Object> values) {
        values.forEach((metric, v) -> {
            Double d = Comparisons.number(v);
            if (d == null || !(Comparisons.HIGHER_IS_BETTER.contains(metric) || Comparisons.LOWER_IS_BETTER.contains(metric))) {
                return;
            }
            AtomicReference<Double> holder = gauges.computeIfAbsent(name + "|" + jobId + "|" + metric, k -> {
                AtomicReference<Double> h = new AtomicReference<>(d);
                registry.gauge(name, Tags.of("job_id", jobId, "metric", metric), h, AtomicReference::get);
                return h;
            });
            holder.set(d);
        });
    }

    private static Map<String, Object> nn(Map<String, Object> m) {
        return m == null ? Map.of() : m;
    }

}
