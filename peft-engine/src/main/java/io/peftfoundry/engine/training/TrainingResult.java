package io.peftfoundry.engine.training;

import java.util.List;

/**
 * What a training run did.
 *
 * @param steps optimizer steps completed (including those before a resume)
 * @param losses training loss of every step run in this call, in order
 * @param stopReason "completed", "max_steps", "early_stopping" or "requested"
 */
public record TrainingResult(long steps, long totalSteps, List<Double> losses, EvalResult lastEval, double trainSeconds,
        double tokensPerSecond, long tokens, String stopReason) {}
