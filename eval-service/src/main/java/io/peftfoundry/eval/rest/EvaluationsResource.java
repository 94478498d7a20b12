package io.peftfoundry.eval.rest;

import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.eval.service.Comparisons;
import io.peftfoundry.eval.service.EvalStore;
import io.peftfoundry.eval.service.EvalStore.Evaluation;
import io.peftfoundry.support.paging.PageRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Evaluations, comparisons and the leaderboard of the caller's tenant (another tenant's ids answer 404). */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
public class EvaluationsResource {

    private final EvalStore store;
    private final CurrentCaller caller;

    public EvaluationsResource(EvalStore store, CurrentCaller caller) {
        this.store = store;
        this.caller = caller;
    }

    /**
     * {@code GET /v1/evaluations?job_id=&limit=&after=} → the shared list object: a job's evaluations oldest first, or
     * without job_id the tenant's newest first ({@code limit} 1–100, default 20; {@code after} an evaluation id).
     */
    @GET
    @Path("evaluations")
    public Map<String, Object> list(@QueryParam("job_id") String jobId, @QueryParam("limit") Integer limit,
                                    @QueryParam("after") String after) throws SQLException {
        return store.evaluations(caller.tenant(), jobId == null || jobId.isBlank() ? null : jobId,
                PageRequest.of(limit, after)).body(EvaluationsResource::view, Evaluation::id);
    }

    @GET
    @Path("evaluations/{id}")
    public Map<String, Object> one(@PathParam("id") String id) throws SQLException {
        return store.evaluation(id).filter(e -> e.tenant().equals(caller.tenant())).map(EvaluationsResource::view)
                .orElseThrow(() -> ProblemException.notFound("evaluation", id));
    }

    /**
     * {@code GET /v1/comparisons/{job_id}}: the job's adapter against the full-fine-tune baseline; {@code comparison}
     * is null (with {@code baseline.status}) while the baseline is still training.
     */
    @GET
    @Path("comparisons/{job_id}")
    public Map<String, Object> comparison(@PathParam("job_id") String jobId) throws SQLException {
        List<Evaluation> rows = store.evaluationsOfJob(caller.tenant(), jobId);
        if (rows.isEmpty()) {
            throw ProblemException.notFound("evaluation of job", jobId);
        }
        Evaluation e = rows.get(rows.size() - 1);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "comparison");
        out.put("job_id", jobId);
        out.put("evaluation_id", e.id());
        out.put("status", e.status());
        out.put("error", e.error());
        out.put("method", e.methodType());
        out.put("is_baseline", e.isBaseline());
        out.put("metrics", scalars(e.metrics()));
        Map<String, Object> baseline = new LinkedHashMap<>();
        if (e.baselineKey() != null) {
            store.baselineByKey(e.baselineKey()).ifPresent(b -> {
                baseline.put("id", b.id());
                baseline.put("status", b.status());
                baseline.put("job_id", b.jobId());
                baseline.put("error", b.error());
            });
        }
        out.put("baseline", baseline.isEmpty() ? null : baseline);
        out.put("comparison", e.comparison());
        out.put("post_pretraining", postPretraining(e));
        return out;
    }

    /**
     * The two-stage block: null unless the job continued an adapter whose lineage holds continued pretraining; else
     * the stored comparison with the SFT-only counterpart and that counterpart's live state ({@code status, job_id,
     * error}) — a failed counterpart is shown as failed, with its reason.
     */
    private Map<String, Object> postPretraining(Evaluation e) throws SQLException {
        if (e.counterpartKey() == null || e.postPretraining() == null) {
            return null;
        }
        Map<String, Object> block = new LinkedHashMap<>(e.postPretraining());
        Map<String, Object> counterpart = new LinkedHashMap<>();
        store.counterpartByKey(e.counterpartKey()).ifPresent(c -> {
            counterpart.put("id", c.id());
            counterpart.put("status", c.status());
            counterpart.put("job_id", c.jobId());
            counterpart.put("evaluation_id", c.evaluationId());
            counterpart.put("error", c.error());
            if ("failed".equals(c.status()) && !"compared".equals(block.get("status"))) {
                block.put("status", "counterpart_failed");
            }
        });
        block.put("sft_only", block.getOrDefault("sft_only", null));
        block.put("counterpart", counterpart.isEmpty() ? null : counterpart);
        return block;
    }

    /**
     * {@code GET /v1/leaderboard?model=&training_file=}: the tenant's succeeded evaluations for one backbone and
     * training file, best first by the task's primary metric (accuracy for classification).
     */
    @GET
    @Path("leaderboard")
    public Map<String, Object> leaderboard(@QueryParam("model") String model,
                                           @QueryParam("training_file") String trainingFile) throws SQLException {
        if (model == null || model.isBlank() || trainingFile == null || trainingFile.isBlank()) {
            throw ProblemException.badRequest("model and training_file are required query parameters");
        }
        List<Evaluation> rows = new ArrayList<>(store.leaderboard(caller.tenant(), model, trainingFile));
        String task = rows.isEmpty() ? "classification" : rows.get(0).task();
        Comparisons.Primary primary = Comparisons.primaryMetric(task);
        Comparator<Evaluation> byScore = Comparator.comparingDouble(e -> score(e, primary.metric()));
        rows.removeIf(e -> Double.isNaN(score(e, primary.metric())));
        rows.sort(primary.higherIsBetter() ? byScore.reversed() : byScore);
        List<Map<String, Object>> data = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Evaluation e = rows.get(i);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("rank", i + 1);
            r.put("job_id", e.jobId());
            r.put("adapter", e.adapterId());
            r.put("method", e.methodType());
            r.put("is_baseline", e.isBaseline());
            r.put("two_stage", e.counterpartKey() != null);
            r.put(primary.metric(), score(e, primary.metric()));
            r.put("trainable_parameters", e.jobMetrics() == null ? null : e.jobMetrics().get("trainable_parameters"));
            Object retention = e.comparison() != null && e.comparison().get("retention_percent") instanceof Map<?, ?> rp
                    ? rp.get(primary.metric()) : null;
            r.put("retention_percent", retention);
            r.put("evaluation_id", e.id());
            data.add(r);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "leaderboard");
        out.put("model", model);
        out.put("training_file", trainingFile);
        out.put("metric", primary.metric());
        out.put("data", data);
        return out;
    }

    private static double score(Evaluation e, String metric) {
        Object v = e.metrics() == null ? null : e.metrics().get(metric);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static Map<String, Object> scalars(Map<String, Object> metrics) {
        if (metrics == null) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        metrics.forEach((k, v) -> {
            if (v instanceof Number) {
                out.put(k, v);
            }
        });
        return out;
    }

    static Map<String, Object> view(Evaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("object", "evaluation");
        m.put("job_id", e.jobId());
        m.put("adapter", e.adapterId());
        m.put("model", e.model());
        m.put("task", e.task());
        m.put("method", e.methodType());
        m.put("training_file", e.trainingFile());
        m.put("validation_file", e.validationFile());
        m.put("status", e.status());
        m.put("is_baseline", e.isBaseline());
        m.put("metrics", e.metrics());
        m.put("job_metrics", e.jobMetrics());
        m.put("comparison", e.comparison());
        m.put("two_stage", e.counterpartKey() != null);
        m.put("post_pretraining", e.postPretraining());
        m.put("error", e.error());
        m.put("created_at", e.createdAt() == null ? null : e.createdAt().toInstant().getEpochSecond());
        m.put("finished_at", e.finishedAt() == null ? null : e.finishedAt().toInstant().getEpochSecond());
        return m;
    }
}
