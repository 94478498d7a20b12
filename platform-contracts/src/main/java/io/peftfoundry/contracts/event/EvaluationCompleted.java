package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.Topics;

import java.util.Map;

/**
 * An adapter scored, on {@link Topics#EVAL_RESULTS} (key: job id).
 *
 * @param jobId        the job whose adapter was evaluated
 * @param evaluationId the evaluation (eval-service id)
 * @param metrics      e.g. {@code accuracy, macro_f1, loss} for classification, {@code perplexity, loss} for causal LM
 * @param comparison   the same metrics of the full fine-tune baseline and the differences, or null when no baseline
 *                     exists yet
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EvaluationCompleted(String jobId, String evaluationId, Map<String, Double> metrics,
                                  Map<String, Object> comparison) {
}
