package io.peftfoundry.engine.training;

import java.util.List;

/**
 * What a training run did.
 *
 * @param steps optimizer steps completed (including those before a resume)
 * @param losses training loss of every step run in this call, in order
 * @param stopReason "completed", "max_steps", "early_stopping" or "requested"
 * @param skippedSteps steps whose update was skipped because the fp16 loss scale made a gradient overflow
 *     (including those before a resume; always 0 at fp32)
 * @param lossScale the fp16 loss scale at the end (1 at fp32)
 */
public record TrainingResult(long steps, long totalSteps, List<Double> losses, EvalResult lastEval, double trainSeconds,
        double tokensPerSecond, long tokens, String stopReason, long skippedSteps, double lossScale) {

    /** With the result's evaluation replaced. */
    public TrainingResult withLastEval(EvalResult eval) {
        return new TrainingResult(steps, totalSteps, losses, eval, trainSeconds, tokensPerSecond, tokens, stopReason,
                skippedSteps, lossScale);
    }
}
