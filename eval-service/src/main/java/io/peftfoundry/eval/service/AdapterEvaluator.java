package io.peftfoundry.eval.service;

import io.peftfoundry.support.messaging.TransientFailure;

import java.util.Map;

/** Scores one job's adapter on the job's validation file. */
public interface AdapterEvaluator {

    /**
     * @param metrics      {@code accuracy, macro_f1, loss, examples, per_class{label:{precision,recall}}, labels,
     *                     confusion_matrix} for classification
     * @param adapterBytes size of the stored adapter artifact (a full model's for method {@code full})
     * @param correct      per validation example (file order) whether the prediction was right, for paired
     *                     comparisons; null where the task has no per-example outcome (causal LM)
     */
    record Outcome(Map<String, Object> metrics, long adapterBytes, boolean[] correct) {}

    /**
     * @throws EvaluationFailure the adapter cannot be evaluated (stored as the evaluation's reason)
     * @throws TransientFailure  an input could not be fetched for now (artifact-store or S3 away): try again later
     */
    Outcome evaluate(JobInfo job, String adapterId) throws EvaluationFailure, TransientFailure;
}
