package io.peftfoundry.eval.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Full-fine-tune baselines. A baseline is identified by (model, training-file digest, evaluation-file digest, task,
 * tenant).
 * The first caller to insert the {@code baselines} row for a key ({@code INSERT … ON CONFLICT DO NOTHING}) is the
 * only one that submits the job, so concurrent completions never submit two baselines for one key.
 */
@ApplicationScoped
public class BaselineService {

    private static final Logger LOG = Logger.getLogger(BaselineService.class);

    private final EvalStore store;
    private final ObjectMapper json = new ObjectMapper();

    public BaselineService(EvalStore store) {
        this.store = store;
    }

    /**
     * The baseline key: readable, stable for the same data under other file ids, and the tenant's own — a baseline
     * (and the job id it names) is shared only between jobs of one tenant, never across tenants.
     */
    public static String key(String tenant, String model, String trainingDigest, String validationDigest, String task) {
        return model + "|" + trainingDigest + "|" + validationDigest + "|" + task + "|" + tenant;
    }

    /** The baseline key of {@code job} on data with these digests (its tenant's, its model's, its task's). */
    public static String keyOf(JobInfo job, String trainingDigest, String validationDigest) {
        return key(job.tenant(), job.model(), trainingDigest, validationDigest, job.task());
    }

    /** Idempotency-Key for job-api: derived from the baseline key only, so every retry names the same job. */
    public static String idempotencyKey(String baselineKey) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(baselineKey.getBytes(StandardCharsets.UTF_8));
            return "foundry-baseline-" + HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The spec of the baseline for {@code job}: the same model, task, files, seed and hyperparameters, method
     * {@code full} with full fine-tuning's own default learning rate, no init adapter, and metadata marking it.
     */
    public ObjectNode baselineSpec(JobInfo job, String baselineKey) {
        ObjectNode spec = job.spec().deepCopy();
        spec.putObject("method").put("type", "full");
        JsonNode hp = spec.get("hyperparameters");
        if (hp instanceof ObjectNode h) {
            h.remove("learning_rate");
        }
        spec.remove("init_adapter");
        spec.put("suffix", "baseline");
        ObjectNode meta = spec.putObject("metadata");
        meta.put("baseline_for", job.jobId());
        meta.put("foundry_baseline", "true");
        meta.put("baseline_key", baselineKey.length() > 512 ? baselineKey.substring(0, 512) : baselineKey);
        return spec;
    }

    /**
     * Makes sure a baseline exists or is on its way for {@code job}'s key: returns true when this call inserted the
     * row (or took a failed one back) and submitted the job, false when another completion (or an earlier one) already
     * did. A failed baseline (its job failed, or submitting it did) is tried again by the next completion of the key,
     * under a new Idempotency-Key — the first one would only give back the failed job.
     */
    public boolean ensureBaseline(JobInfo job, String baselineKey, String trainingDigest, String validationDigest,
                                  BaselineSubmitter submitter) throws SQLException {
        String id = "base-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        String idempotencyKey = idempotencyKey(baselineKey);
        if (!store.insertBaselineIfAbsent(id, baselineKey, job, trainingDigest, validationDigest)) {
            if (!store.reclaimFailedBaseline(baselineKey)) {
                return false;
            }
            id = store.baselineByKey(baselineKey).map(EvalStore.Baseline::id).orElse(id);
            idempotencyKey = idempotencyKey + "-retry-" + UUID.randomUUID().toString().substring(0, 8);
            LOG.infof("job %s: the baseline for %s had failed; submitting it again", job.jobId(), baselineKey);
        }
        try {
            String jobId = submitter.submit(baselineSpec(job, baselineKey), idempotencyKey, job.tenant());
            store.baselineSubmitted(baselineKey, jobId);
            LOG.infof("job %s: no baseline for %s; submitted full fine-tune %s (baseline %s)", job.jobId(),
                    baselineKey, jobId, id);
        } catch (Exception e) {
            String reason = "submitting the baseline job failed: " + e.getMessage();
            store.baselineFailed(baselineKey, reason);
            LOG.warnf("job %s: %s (baseline %s)", job.jobId(), reason, id);
        }
        return true;
    }
}
