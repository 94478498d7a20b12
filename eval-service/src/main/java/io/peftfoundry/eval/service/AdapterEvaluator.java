package io.peftfoundry.eval.service;

import io.peftfoundry.support.messaging.TransientFailure;

import java.util.List;
import java.util.Map;

/** Scores one job's adapter on the job's validation file. */
public interface AdapterEvaluator {

    /**
     * @param metrics      {@code accuracy, macro_f1, loss, examples, per_class{label:{precision,recall}}, labels,
     *                     confusion_matrix} for classification
     * @param adapterBytes size of the stored adapter artifact (a full model's for method {@code full})
     * @param correct      per validation example (file order) whether the prediction was right, for paired
     *                     comparisons; null for causal LM
     * @param causal       per-example outcomes of a causal-LM evaluation (null for classification)
     * @param lineage      the stages recorded in the adapter's {@code lineage.json} (earlier stages first, this job's
     *                     last), empty when it has none
     */
    record Outcome(Map<String, Object> metrics, long adapterBytes, boolean[] correct, CausalOutcomes causal,
                   List<Map<String, Object>> lineage) {

        public Outcome(Map<String, Object> metrics, long adapterBytes, boolean[] correct) {
            this(metrics, adapterBytes, correct, null, List.of());
        }

        /** True when an earlier stage of this adapter was continued pretraining (the two-stage recipe). */
        public boolean continuesPretraining() {
            return lineage.size() > 1 && lineage.subList(0, lineage.size() - 1).stream()
                    .anyMatch(s -> "continued_pretraining".equals(s.get("task")));
        }
    }

    /**
     * @throws EvaluationFailure the adapter cannot be evaluated (stored as the evaluation's reason)
     * @throws TransientFailure  an input could not be fetched for now (artifact-store or S3 away): try again later
     */
    Outcome evaluate(JobInfo job, String adapterId) throws EvaluationFailure, TransientFailure;
}
