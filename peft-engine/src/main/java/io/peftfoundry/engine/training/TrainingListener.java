package io.peftfoundry.engine.training;

import java.nio.file.Path;

/** Progress callbacks from the training loop (the worker publishes them; the CLI draws a bar). */
public interface TrainingListener {

    /** After each optimizer step; {@code loss} is the mean training loss of that step. */
    default void onStep(long step, long totalSteps, int epoch, double loss, double learningRate,
            double tokensPerSecond, double etaSeconds) {
    }

    default void onEval(long step, EvalResult result) {
    }

    /** Evaluation of a causal-LM job (loss, perplexity, token accuracy on the validation file). */
    default void onCausalEval(long step, io.peftfoundry.engine.task.causal.CausalEvaluator.Metrics result) {
    }

    default void onCheckpoint(long step, Path directory) {
    }

    /**
     * Polled after each step: true stops training after writing a checkpoint (if a checkpoint
     * directory was given), so a cancelled or paused job can resume later.
     */
    default boolean stopRequested() {
        return false;
    }

    TrainingListener NONE = new TrainingListener() { };
}
