package io.peftfoundry.eval.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Rows of the {@code evals} schema: job specs, evaluations and baselines (plain JDBC). */
@ApplicationScoped
public class EvalStore {

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

    private final DataSource ds;
    private final ObjectMapper json;

    public EvalStore(DataSource ds, ObjectMapper json) {
        this.ds = ds;
        this.json = json;
    }

    /** An evaluation row as the REST API shows it. */
    public record Evaluation(String id, String tenant, String jobId, String adapterId, String model, String task,
                             String methodType, String trainingFile, String validationFile, String status,
                             Map<String, Object> metrics, Map<String, Object> jobMetrics, String baselineKey,
                             boolean isBaseline, String baselineId, Map<String, Object> comparison, String error,
                             Timestamp createdAt, Timestamp finishedAt, String counterpartKey,
                             Map<String, Object> postPretraining) {}

    /** The SFT-only counterpart of two-stage adapters with one key (see {@link CounterpartService}). */
    public record Counterpart(String id, String key, String tenant, String jobId, String status, String evaluationId,
                              String error) {}

    public record Baseline(String id, String key, String tenant, String model, String task, String trainingFile,
                           String validationFile, String jobId, String status, String evaluationId, String error) {}

    // ---- job specs ---------------------------------------------------------------------------------------

    public void saveSpec(String jobId, String tenant, JsonNode spec) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO job_specs (job_id, tenant_id, spec) VALUES (?, ?, ?::jsonb) ON CONFLICT (job_id) DO NOTHING")) {
            ps.setString(1, jobId);
            ps.setString(2, tenant);
            ps.setString(3, spec.toString());
            ps.executeUpdate();
        }
    }

    public Optional<JobInfo> findSpec(String jobId) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT tenant_id, spec FROM job_specs WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new JobInfo(jobId, rs.getString(1), readTree(rs.getString(2))));
            }
        }
    }

    // ---- evaluations -------------------------------------------------------------------------------------

    /**
     * Claims the evaluation of (job, adapter): inserts it {@code running}, or takes over an existing row that is
     * {@code pending} (released after a transient failure) or whose lease ran out (its owner died mid-evaluation).
     * Returns the evaluation's id when this call owns the work now; empty when it is done or another owner holds it.
     */
    public Optional<String> claimEvaluation(String id, JobInfo job, String adapterId, String baselineKey,
                                            Map<String, Object> jobMetrics, java.time.Duration lease) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO evaluations (id, tenant_id, job_id, adapter_id, adapter_key, model, task, method_type,"
                        + " training_file, validation_file, status, is_baseline, baseline_key, job_metrics,"
                        + " trainable_parameters, total_parameters, train_seconds, claimed_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?::jsonb, ?, ?, ?, now())"
                        + " ON CONFLICT (job_id, adapter_key) DO UPDATE SET status = 'running', claimed_at = now()"
                        + " WHERE evaluations.status = 'pending' OR (evaluations.status = 'running'"
                        + " AND evaluations.claimed_at < now() - ? * interval '1 millisecond')"
                        + " RETURNING id")) {
            ps.setString(1, id);
            ps.setString(2, job.tenant());
            ps.setString(3, job.jobId());
            ps.setString(4, adapterId);
            ps.setString(5, adapterId == null ? "" : adapterId);
            ps.setString(6, nz(job.model()));
            ps.setString(7, job.task());
            ps.setString(8, job.methodType());
            ps.setString(9, nz(job.trainingFile()));
            ps.setString(10, nz(job.validationFile()));
            ps.setBoolean(11, job.isBaselineJob());
            ps.setString(12, baselineKey);
            ps.setString(13, write(jobMetrics));
            setLong(ps, 14, Comparisons.number(jobMetrics.get("trainable_parameters")));
            setLong(ps, 15, Comparisons.number(jobMetrics.get("total_parameters")));
            Double secs = Comparisons.number(jobMetrics.get("train_seconds"));
            if (secs == null) {
                ps.setNull(16, java.sql.Types.DOUBLE);
            } else {
                ps.setDouble(16, secs);
            }
            ps.setLong(17, lease.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /** Gives the claim back after a transient failure: {@code pending}, with the reason, for the next attempt. */
    public void release(String id, String reason) throws SQLException {
        update("UPDATE evaluations SET status = 'pending', error = ? WHERE id = ? AND status = 'running'", reason, id);
    }

    /** The owner is still at work: pushes the leases of these evaluations forward. */
    public void renewClaims(java.util.Collection<String> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE evaluations SET claimed_at = now() WHERE id = ANY (?) AND status = 'running'")) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            ps.executeUpdate();
        }
    }

    /** An unfinished evaluation whose owner is gone: what is needed to run it again. */
    public record Abandoned(String id, String jobId, String adapterId, String baselineKey,
                            Map<String, Object> jobMetrics) {}

    /** Takes over (claims) up to {@code limit} evaluations left running or pending past the lease. */
    public List<Abandoned> takeOverAbandoned(java.time.Duration lease, int limit) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE evaluations SET status = 'running', claimed_at = now() WHERE id IN (SELECT id FROM evaluations"
                        + " WHERE status IN ('pending', 'running') AND claimed_at < now() - ? * interval '1 millisecond'"
                        + " ORDER BY claimed_at LIMIT ? FOR UPDATE SKIP LOCKED)"
                        + " RETURNING id, job_id, adapter_id, baseline_key, job_metrics::text")) {
            ps.setLong(1, lease.toMillis());
            ps.setInt(2, limit);
            List<Abandoned> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String metrics = rs.getString(5);
                    out.add(new Abandoned(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            metrics == null ? new LinkedHashMap<>() : json.readValue(metrics, MAP)));
                }
            } catch (JsonProcessingException e) {
                throw new SQLException("job_metrics of an evaluation is not JSON", e);
            }
            return out;
        }
    }

    /** @param correct per-example outcomes of a classification evaluation, or null */
    public void succeed(String id, Map<String, Object> metrics, Map<String, Object> jobMetrics, boolean[] correct)
            throws SQLException {
        succeed(id, metrics, jobMetrics, correct, null);
    }

    /** @param causal per-example outcomes of a causal-LM evaluation, or null */
    public void succeed(String id, Map<String, Object> metrics, Map<String, Object> jobMetrics, boolean[] correct,
                        CausalOutcomes causal) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE evaluations SET status = 'succeeded', metrics = ?::jsonb, job_metrics = ?::jsonb,"
                        + " example_correct = ?, causal_outcomes = ?::jsonb, finished_at = now() WHERE id = ?")) {
            ps.setString(1, write(metrics));
            ps.setString(2, write(jobMetrics));
            if (correct == null) {
                ps.setNull(3, java.sql.Types.ARRAY);
            } else {
                Boolean[] boxed = new Boolean[correct.length];
                for (int i = 0; i < correct.length; i++) {
                    boxed[i] = correct[i];
                }
                ps.setArray(3, c.createArrayOf("boolean", boxed));
            }
            ps.setString(4, causal == null ? null : write(causal.toMap()));
            ps.setString(5, id);
            ps.executeUpdate();
        }
    }

    /** The causal-LM per-example outcomes stored with an evaluation, or null when it kept none. */
    public CausalOutcomes causalOutcomes(String evaluationId) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT causal_outcomes FROM evaluations WHERE id = ?")) {
            ps.setString(1, evaluationId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? CausalOutcomes.fromMap(readMap(rs.getString(1))) : null;
            }
        }
    }

    /** Marks a two-stage evaluation with its counterpart's key and the block shown until the counterpart is in. */
    public void setCounterpart(String evaluationId, String counterpartKey, Map<String, Object> postPretraining)
            throws SQLException {
        update("UPDATE evaluations SET counterpart_key = ?, post_pretraining = ?::jsonb WHERE id = ?", counterpartKey,
                write(postPretraining), evaluationId);
    }

    public void setPostPretraining(String evaluationId, Map<String, Object> postPretraining) throws SQLException {
        update("UPDATE evaluations SET post_pretraining = ?::jsonb WHERE id = ?", write(postPretraining), evaluationId);
    }

    /** Succeeded two-stage evaluations whose counterpart has this key. */
    public List<Evaluation> twoStageOf(String counterpartKey) throws SQLException {
        return queryEvaluations("SELECT " + EVAL_COLUMNS + " FROM evaluations WHERE counterpart_key = ?"
                + " AND status = 'succeeded' ORDER BY created_at", counterpartKey);
    }

    // ---- SFT-only counterparts ---------------------------------------------------------------------------

    /** Inserts a {@code pending} counterpart for the key; true only for the one caller whose row went in. */
    public boolean insertCounterpartIfAbsent(String id, String key, String tenant) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO sft_counterparts (id, counterpart_key, tenant_id, status) VALUES (?, ?, ?, 'pending')"
                        + " ON CONFLICT (counterpart_key) DO NOTHING")) {
            ps.setString(1, id);
            ps.setString(2, key);
            ps.setString(3, tenant);
            return ps.executeUpdate() == 1;
        }
    }

    /** Takes a {@code failed} counterpart back to {@code pending}; true only for the one caller whose update matched. */
    public boolean reclaimFailedCounterpart(String key) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE sft_counterparts SET status = 'pending', job_id = NULL, evaluation_id = NULL, error = NULL,"
                        + " updated_at = now() WHERE counterpart_key = ? AND status = 'failed'")) {
            ps.setString(1, key);
            return ps.executeUpdate() == 1;
        }
    }

    public void counterpartSubmitted(String key, String jobId) throws SQLException {
        update("UPDATE sft_counterparts SET job_id = ?, status = 'running', updated_at = now() WHERE counterpart_key = ?"
                + " AND status = 'pending'", jobId, key);
    }

    /** The counterpart is in: this job's evaluation (the one submitted, or the tenant's own identical SFT job). */
    public void counterpartSucceeded(String key, String jobId, String evaluationId) throws SQLException {
        update("UPDATE sft_counterparts SET job_id = ?, evaluation_id = ?, status = 'succeeded', error = NULL,"
                + " updated_at = now() WHERE counterpart_key = ?", jobId, evaluationId, key);
    }

    /** Fails the counterpart (never one that already succeeded). */
    public void counterpartFailed(String key, String reason) throws SQLException {
        update("UPDATE sft_counterparts SET status = 'failed', error = ?, updated_at = now() WHERE counterpart_key = ?"
                + " AND status <> 'succeeded'", reason, key);
    }

    public Optional<Counterpart> counterpartByKey(String key) throws SQLException {
        return queryCounterpart("counterpart_key = ?", key);
    }

    public Optional<Counterpart> counterpartByJob(String jobId) throws SQLException {
        return queryCounterpart("job_id = ?", jobId);
    }

    public int countCounterparts(String key) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM sft_counterparts WHERE counterpart_key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private Optional<Counterpart> queryCounterpart(String where, String arg) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id, counterpart_key, tenant_id, job_id, status, evaluation_id, error FROM sft_counterparts WHERE "
                        + where + " ORDER BY updated_at DESC LIMIT 1")) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Counterpart(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7)));
            }
        }
    }

    /** The per-example outcomes stored with an evaluation, or null when it kept none. */
    public boolean[] exampleCorrect(String evaluationId) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT example_correct FROM evaluations WHERE id = ?")) {
            ps.setString(1, evaluationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getArray(1) == null) {
                    return null;
                }
                Boolean[] boxed = (Boolean[]) rs.getArray(1).getArray();
                boolean[] out = new boolean[boxed.length];
                for (int i = 0; i < boxed.length; i++) {
                    out[i] = Boolean.TRUE.equals(boxed[i]);
                }
                return out;
            }
        }
    }

    public void fail(String id, String reason) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE evaluations SET status = 'failed', error = ?, finished_at = now() WHERE id = ?")) {
            ps.setString(1, reason);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    public void setComparison(String evaluationId, String baselineId, Map<String, Object> comparison) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE evaluations SET baseline_id = ?, comparison = ?::jsonb WHERE id = ?")) {
            ps.setString(1, baselineId);
            ps.setString(2, write(comparison));
            ps.setString(3, evaluationId);
            ps.executeUpdate();
        }
    }

    private static final String EVAL_COLUMNS = "id, tenant_id, job_id, adapter_id, model, task, method_type,"
            + " training_file, validation_file, status, metrics, job_metrics, baseline_key, is_baseline, baseline_id,"
            + " comparison, error, created_at, finished_at, counterpart_key, post_pretraining";

    public Optional<Evaluation> evaluation(String id) throws SQLException {
        List<Evaluation> l = queryEvaluations("SELECT " + EVAL_COLUMNS + " FROM evaluations WHERE id = ?", id);
        return l.stream().findFirst();
    }

    /**
     * One page of the tenant's evaluations: of one job oldest first, or (jobId null) all newest first; the cursor is
     * a keyset on (created_at, id). {@code after} must be an evaluation of that list (400 naming it otherwise).
     */
    public Page<Evaluation> evaluations(String tenant, String jobId, PageRequest page) throws SQLException {
        boolean ofJob = jobId != null;
        if (page.after() != null && evaluation(page.after())
                .filter(e -> e.tenant().equals(tenant) && (!ofJob || jobId.equals(e.jobId()))).isEmpty()) {
            throw page.unknownAfter("evaluation");
        }
        List<String> args = new ArrayList<>(List.of(tenant));
        StringBuilder sql = new StringBuilder("SELECT " + EVAL_COLUMNS + " FROM evaluations WHERE tenant_id = ?");
        if (ofJob) {
            sql.append(" AND job_id = ?");
            args.add(jobId);
        }
        if (page.after() != null) {
            sql.append(" AND (created_at, id) ").append(ofJob ? ">" : "<")
                    .append(" (SELECT created_at, id FROM evaluations WHERE id = ?)");
            args.add(page.after());
        }
        sql.append(ofJob ? " ORDER BY created_at, id" : " ORDER BY created_at DESC, id DESC")
                .append(" LIMIT ").append(page.fetchSize());
        return Page.of(queryEvaluations(sql.toString(), args.toArray(String[]::new)), page);
    }

    public List<Evaluation> evaluationsOfJob(String tenant, String jobId) throws SQLException {
        return queryEvaluations("SELECT " + EVAL_COLUMNS + " FROM evaluations WHERE tenant_id = ? AND job_id = ?"
                + " ORDER BY created_at, id", tenant, jobId);
    }

    /** Succeeded evaluations of a baseline key that are no baseline themselves: they wait for the comparison. */
    public List<Evaluation> comparable(String baselineKey) throws SQLException {
        return queryEvaluations("SELECT " + EVAL_COLUMNS + " FROM evaluations WHERE baseline_key = ?"
                + " AND NOT is_baseline AND status = 'succeeded' ORDER BY created_at", baselineKey);
    }

    /** Succeeded evaluations of one tenant for a model and training file (for the leaderboard). */
    public List<Evaluation> leaderboard(String tenant, String model, String trainingFile) throws SQLException {
        return queryEvaluations("SELECT " + EVAL_COLUMNS + " FROM evaluations WHERE tenant_id = ? AND model = ?"
                + " AND training_file = ? AND status = 'succeeded'", tenant, model, trainingFile);
    }

    private List<Evaluation> queryEvaluations(String sql, String... args) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            List<Evaluation> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Evaluation(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                            rs.getString(10), readMap(rs.getString(11)), readMap(rs.getString(12)), rs.getString(13),
                            rs.getBoolean(14), rs.getString(15), readMap(rs.getString(16)), rs.getString(17),
                            rs.getTimestamp(18), rs.getTimestamp(19), rs.getString(20), readMap(rs.getString(21))));
                }
            }
            return out;
        }
    }

    // ---- baselines ---------------------------------------------------------------------------------------

    /** Inserts a {@code pending} baseline for the key; true only for the one caller whose row went in. */
    public boolean insertBaselineIfAbsent(String id, String key, JobInfo job, String trainingDigest,
                                          String validationDigest) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO baselines (id, baseline_key, tenant_id, model, task, training_file, validation_file, seed,"
                        + " training_digest, validation_digest, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')"
                        + " ON CONFLICT (baseline_key) DO NOTHING")) {
            ps.setString(1, id);
            ps.setString(2, key);
            ps.setString(3, job.tenant());
            ps.setString(4, nz(job.model()));
            ps.setString(5, job.task());
            ps.setString(6, nz(job.trainingFile()));
            ps.setString(7, nz(job.validationFile()));
            ps.setLong(8, job.seed());
            ps.setString(9, trainingDigest);
            ps.setString(10, validationDigest);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Takes a {@code failed} baseline back to {@code pending} for a new attempt; true only for the one caller whose
     * update matched (the row keeps its id, which evaluations may reference).
     */
    public boolean reclaimFailedBaseline(String key) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE baselines SET status = 'pending', job_id = NULL, evaluation_id = NULL, error = NULL,"
                        + " finished_at = NULL WHERE baseline_key = ? AND status = 'failed'")) {
            ps.setString(1, key);
            return ps.executeUpdate() == 1;
        }
    }

    public void baselineSubmitted(String key, String jobId) throws SQLException {
        update("UPDATE baselines SET job_id = ?, status = 'running' WHERE baseline_key = ?", jobId, key);
    }

    public void baselineSucceeded(String key, String jobId, String evaluationId) throws SQLException {
        update("UPDATE baselines SET job_id = ?, evaluation_id = ?, status = 'succeeded', error = NULL,"
                + " finished_at = now() WHERE baseline_key = ?", jobId, evaluationId, key);
    }

    public void baselineFailed(String key, String reason) throws SQLException {
        update("UPDATE baselines SET status = 'failed', error = ?, finished_at = now() WHERE baseline_key = ?",
                reason, key);
    }

    public Optional<Baseline> baselineByKey(String key) throws SQLException {
        return queryBaseline("baseline_key = ?", key);
    }

    public Optional<Baseline> baselineByJob(String jobId) throws SQLException {
        return queryBaseline("job_id = ?", jobId);
    }

    public int countBaselines(String key) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM baselines WHERE baseline_key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private Optional<Baseline> queryBaseline(String where, String arg) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id, baseline_key, tenant_id, model, task, training_file, validation_file, job_id, status,"
                        + " evaluation_id, error FROM baselines WHERE " + where)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Baseline(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                        rs.getString(10), rs.getString(11)));
            }
        }
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    private void update(String sql, String... args) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private static void setLong(PreparedStatement ps, int i, Double v) throws SQLException {
        if (v == null) {
            ps.setNull(i, java.sql.Types.BIGINT);
        } else {
            ps.setLong(i, v.longValue());
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private String write(Object o) {
        try {
            return o == null ? null : json.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private JsonNode readTree(String s) {
        try {
            return json.readTree(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Map<String, Object> readMap(String s) {
        if (s == null) {
            return null;
        }
        try {
            return json.readValue(s, MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> copy(Map<String, ?> m) {
        return m == null ? new LinkedHashMap<>() : new LinkedHashMap<>(m);
    }
}
