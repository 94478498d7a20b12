package io.peftfoundry.eval.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * SFT-only counterparts of two-stage adapters (issue 19). When an {@code sft} job continues an adapter whose lineage
 * holds a {@code continued_pretraining} stage, the service also runs the same spec without {@code init_adapter} —
 * the SFT-only run the recipe claims to beat — in the tenant's name, exactly as full-fine-tune baselines are run
 * ({@link BaselineService}): one row per key ({@code INSERT … ON CONFLICT DO NOTHING}: the first completion to insert it
 * is the only one to submit), a stable {@code Idempotency-Key}, a failed counterpart taken back by the next completion.
 * The key is the tenant's own: another tenant's identical job gets a counterpart of its own.
 */
@ApplicationScoped
public class CounterpartService {

    private static final Logger LOG = Logger.getLogger(CounterpartService.class);

    /** Spec fields that do not change what an SFT-only run learns (or name the data, which the key holds by digest). */
    private static final List<String> NOT_IN_KEY = List.of("init_adapter", "suffix", "metadata", "priority",
            "training_file", "validation_file");

    private static final ObjectMapper CANONICAL = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private final EvalStore store;

    public CounterpartService(EvalStore store) {
        this.store = store;
    }

    /**
     * The counterpart key of an sft {@code job} on data with these digests: tenant, model, data, and a SHA-256 of the
     * rest of the spec (method, hyperparameters, seed …) in canonical form — two jobs that differ only in their
     * {@code init_adapter} share one SFT-only run, and an SFT job the tenant ran itself with that spec is one.
     */
    public static String keyOf(JobInfo job, String trainingDigest, String validationDigest) {
        ObjectNode rest = job.spec().deepCopy();
        NOT_IN_KEY.forEach(rest::remove);
        String canonical;
        try {
            canonical = CANONICAL.writeValueAsString(CANONICAL.convertValue(rest, Map.class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return "sft-only|" + job.tenant() + "|" + job.model() + "|" + trainingDigest + "|" + validationDigest + "|"
                + sha256(canonical).substring(0, 32);
    }

    /** Idempotency-Key for job-api, derived from the counterpart key only. */
    public static String idempotencyKey(String counterpartKey) {
        return "foundry-sft-only-" + sha256(counterpartKey).substring(0, 32);
    }

    /** The counterpart's spec: the job's spec without {@code init_adapter}, suffix {@code sft-only}, metadata marking it. */
    public ObjectNode counterpartSpec(JobInfo job, String counterpartKey) {
        ObjectNode spec = job.spec().deepCopy();
        spec.remove("init_adapter");
        spec.put("suffix", "sft-only");
        ObjectNode meta = spec.putObject("metadata");
        meta.put("sft_only_for", job.jobId());
        meta.put("foundry_sft_only", "true");
        meta.put("counterpart_key", counterpartKey.length() > 512 ? counterpartKey.substring(0, 512) : counterpartKey);
        JsonNode init = job.spec().get("init_adapter");
        if (init != null && init.isTextual()) {
            meta.put("two_stage_init_adapter", init.asText());
        }
        return spec;
    }

    /**
     * Makes sure the counterpart exists or is on its way: true when this call inserted the row (or took a failed one
     * back) and submitted the job, false when another completion already did.
     */
    public boolean ensureCounterpart(JobInfo job, String counterpartKey, BaselineSubmitter submitter) throws SQLException {
        String id = "sftonly-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        String idempotencyKey = idempotencyKey(counterpartKey);
        if (!store.insertCounterpartIfAbsent(id, counterpartKey, job.tenant())) {
            if (!store.reclaimFailedCounterpart(counterpartKey)) {
                return false;
            }
            idempotencyKey = idempotencyKey + "-retry-" + UUID.randomUUID().toString().substring(0, 8);
            LOG.infof("job %s: the SFT-only counterpart %s had failed; submitting it again", job.jobId(), counterpartKey);
        }
        try {
            String jobId = submitter.submit(counterpartSpec(job, counterpartKey), idempotencyKey, job.tenant());
            store.counterpartSubmitted(counterpartKey, jobId);
            LOG.infof("job %s: two-stage adapter; submitted its SFT-only counterpart %s for tenant %s (%s)", job.jobId(),
                    jobId, job.tenant(), counterpartKey);
        } catch (Exception e) {
            String reason = "submitting the SFT-only job failed: " + e.getMessage();
            store.counterpartFailed(counterpartKey, reason);
            LOG.warnf("job %s: %s (%s)", job.jobId(), reason, counterpartKey);
        }
        return true;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
