package io.peftfoundry.engine.training;

import ai.djl.ndarray.types.DataType;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.Precision;
import io.peftfoundry.contracts.spec.Scheduler;

/**
 * Training-loop settings (the job spec's hyperparameters plus the seed).
 *
 * @param epochs passes over the training data
 * @param batchSize examples per micro-batch
 * @param learningRate peak learning rate
 * @param maxSeqLength tokens per example after truncation
 * @param warmupRatio fraction of the steps with linear warmup
 * @param weightDecay decoupled AdamW weight decay (not applied to biases and LayerNorm)
 * @param gradientAccumulationSteps micro-batches per optimizer step
 * @param maxSteps optimizer steps cap, or null
 * @param evalEverySteps evaluate every N steps (0 = at the end of each epoch only)
 * @param checkpointEverySteps checkpoint every N steps (0 = at the end of each epoch only)
 * @param cosine cosine decay after warmup instead of linear
 * @param maxGradNorm global gradient-norm clip (0 = off)
 * @param earlyStoppingPatience evaluations without a better eval loss before stopping, or null
 * @param seed seeds head/method initialisation, shuffling and dropout
 * @param precision how the frozen backbone is held: fp32, fp16 (frozen linear/embedding weights in float16, with
 *     dynamic loss scaling in the loop) or bf16 (in bfloat16, no loss scaling); see {@link Precision}
 * @param gradientCheckpointing recompute each decoder layer's activations in backward instead of keeping them
 *     ({@link io.peftfoundry.engine.model.GradientCheckpointing}): less memory, one more forward pass per step
 */
public record TrainingConfig(int epochs, int batchSize, double learningRate, int maxSeqLength, double warmupRatio,
        double weightDecay, int gradientAccumulationSteps, Integer maxSteps, int evalEverySteps, int checkpointEverySteps,
        boolean cosine, double maxGradNorm, Integer earlyStoppingPatience, long seed, Precision precision,
        boolean gradientCheckpointing) {

    public TrainingConfig {
        if (epochs < 1 || batchSize < 1 || gradientAccumulationSteps < 1 || !(learningRate > 0) || maxSeqLength < 2
                || precision == null) {
            throw new IllegalArgumentException("hyperparameters out of range: " + this);
        }
    }

    /** Without gradient checkpointing. */
    public TrainingConfig(int epochs, int batchSize, double learningRate, int maxSeqLength, double warmupRatio,
            double weightDecay, int gradientAccumulationSteps, Integer maxSteps, int evalEverySteps,
            int checkpointEverySteps, boolean cosine, double maxGradNorm, Integer earlyStoppingPatience, long seed,
            Precision precision) {
        this(epochs, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay, gradientAccumulationSteps, maxSteps,
                evalEverySteps, checkpointEverySteps, cosine, maxGradNorm, earlyStoppingPatience, seed, precision, false);
    }

    /** fp32 settings (the default precision), without gradient checkpointing. */
    public TrainingConfig(int epochs, int batchSize, double learningRate, int maxSeqLength, double warmupRatio,
            double weightDecay, int gradientAccumulationSteps, Integer maxSteps, int evalEverySteps,
            int checkpointEverySteps, boolean cosine, double maxGradNorm, Integer earlyStoppingPatience, long seed) {
        this(epochs, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay, gradientAccumulationSteps, maxSteps,
                evalEverySteps, checkpointEverySteps, cosine, maxGradNorm, earlyStoppingPatience, seed, Precision.FP32);
    }

    /**
     * The type of the frozen backbone's linear and embedding weights: FLOAT16 at fp16, BFLOAT16 at bf16 (a request
     * the checkpoint loader carries out through {@code TorchOps}: DJL 0.36 itself cannot make bf16 arrays), else
     * FLOAT32.
     */
    public DataType frozenMatrixType() {
        return switch (precision) {
            case FP16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            case FP32 -> DataType.FLOAT32;
        };
    }

    /** The loop settings of a job spec (its hyperparameters, defaults applied, and its seed): the one place they are mapped. */
    public static TrainingConfig of(JobSpec spec) {
        JobSpec s = spec.withDefaults();
        Hyperparameters h = s.hyperparameters();
        return new TrainingConfig(h.epochs(), h.batchSize(), h.learningRate(), h.maxSeqLength(), h.warmupRatio(),
                h.weightDecay(), h.gradientAccumulationSteps(), h.maxSteps(), h.evalEverySteps(), h.checkpointEverySteps(),
                h.scheduler() == Scheduler.COSINE, h.maxGradNorm(), h.earlyStoppingPatience(), s.seed(), h.precision(),
                h.gradientCheckpointing());
    }

    public static TrainingConfig defaults(double learningRate, long seed) {
        return new TrainingConfig(3, 16, learningRate, 128, 0.06, 0.0, 1, null, 100, 200, false, 1.0, null, seed);
    }

    public TrainingConfig withEpochs(int e) {
        return new TrainingConfig(e, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay,
                gradientAccumulationSteps, maxSteps, evalEverySteps, checkpointEverySteps, cosine, maxGradNorm,
                earlyStoppingPatience, seed, precision, gradientCheckpointing);
    }

    public TrainingConfig withMaxSteps(Integer s) {
        return new TrainingConfig(epochs, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay,
                gradientAccumulationSteps, s, evalEverySteps, checkpointEverySteps, cosine, maxGradNorm,
                earlyStoppingPatience, seed, precision, gradientCheckpointing);
    }

    public TrainingConfig withPrecision(Precision p) {
        return new TrainingConfig(epochs, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay,
                gradientAccumulationSteps, maxSteps, evalEverySteps, checkpointEverySteps, cosine, maxGradNorm,
                earlyStoppingPatience, seed, p, gradientCheckpointing);
    }

    public TrainingConfig withGradientCheckpointing(boolean on) {
        return new TrainingConfig(epochs, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay,
                gradientAccumulationSteps, maxSteps, evalEverySteps, checkpointEverySteps, cosine, maxGradNorm,
                earlyStoppingPatience, seed, precision, on);
    }
}
