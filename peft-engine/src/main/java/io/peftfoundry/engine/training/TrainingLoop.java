package io.peftfoundry.engine.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.peftfoundry.contracts.spec.Precision;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The optimisation loop every task shares: epochs of seeded shuffles, micro-batches with gradient accumulation,
 * global-norm clipping, AdamW with decoupled weight decay on a warmup + linear/cosine schedule, progress reports,
 * evaluation every N steps and at epoch ends with optional early stopping, {@link Checkpoint}s (trainable parameters,
 * optimizer state, step, data position) and an exact resume from one.
 *
 * <p>What differs between tasks — how a micro-batch becomes a loss and a gradient, how much each item weighs in a
 * step's mean loss, what evaluation computes, which parameters decay — is the {@link Task}'s.
 *
 * <p>Repeatability: the epoch order is a shuffle seeded by (seed, epoch) and the engine RNG (dropout) is reseeded
 * from (seed, step, micro-batch) before every forward pass, so a resumed run replays the same data and dropout masks
 * as an uninterrupted one. Bit-identical curves also need one intra-op thread
 * ({@code -Dai.djl.pytorch.num_threads=1}); with more, PyTorch's parallel reductions drift apart slowly (FACTS.md).
 */
final class TrainingLoop {

    /** Checkpoints kept on disk (a full fine-tune's are the size of the model); older ones are deleted. */
    static final int KEEP_CHECKPOINTS = 2;

    /** What a task does inside the loop. */
    interface Task<T> {

        /** The item's weight in a step's mean loss: 1 for an example, its target tokens for a causal sequence. */
        long weight(T item);

        /**
         * Forward and backward of one micro-batch: leaves in the trainable parameters' gradients the gradient of
         * (the items' summed loss ÷ {@code stepWeight}), and returns that summed loss and the tokens read.
         * Throw {@link NonFiniteLossException} (see {@link #checkFinite}) before backward on a non-finite loss.
         */
        Micro forwardBackward(List<T> items, NDManager sub, double stepWeight, long step, int epoch);

        boolean hasValidation();

        /** Evaluates the validation set after {@code step}, tells the listener, and returns the loss early stopping watches. */
        double evaluate(long step);

        /** Whether weight decay applies to the parameter (not to biases and norms). */
        boolean decays(String parameterName);
    }

    /** One micro-batch's summed loss (over its items, as {@link Task#weight} counts them) and tokens. */
    record Micro(double lossSum, long tokens) {}

    private final TrainingConfig config;
    private final NDManager manager;

    TrainingLoop(TrainingConfig config, NDManager manager) {
        this.config = config;
        this.manager = manager;
    }

    long stepsPerEpoch(int items) {
        long micro = (items + config.batchSize() - 1) / config.batchSize();
        return (micro + config.gradientAccumulationSteps() - 1) / config.gradientAccumulationSteps();
    }

    long totalSteps(int items) {
        long total = config.epochs() * stepsPerEpoch(items);
        return config.maxSteps() == null ? total : Math.min(total, config.maxSteps());
    }

    /** Trains {@code params} on {@code train}; the result's {@code lastEval} is left to the caller (null here). */
    <T> TrainingResult run(List<T> train, Map<String, Parameter> params, Task<T> task, Path checkpointRoot,
            Checkpoint resume, TrainingListener listener) throws IOException {
        long total = totalSteps(train.size());
        LearningRateSchedule lr = LearningRateSchedule.of(config.learningRate(), total, config.warmupRatio(), config.cosine());
        AdamW adam = new AdamW();
        LossScaler scaler = new LossScaler(config.precision() == Precision.FP16);
        int microPerEpoch = (train.size() + config.batchSize() - 1) / config.batchSize();

        long step = 0;
        int epoch = 0;
        int nextBatch = 0;
        long tokens = 0;
        double bestEval = Double.POSITIVE_INFINITY;
        int badEvals = 0;
        if (resume != null) {
            if (resume.seed() != config.seed()) {
                throw new IllegalArgumentException("checkpoint was trained with seed " + resume.seed() + ", not " + config.seed());
            }
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                Tensor t = resume.trainable().get(e.getKey());
                if (t == null) {
                    throw new IOException("checkpoint lacks parameter '" + e.getKey() + "'");
                }
                HfModule.assign(e.getValue(), t.toNDArray(manager, e.getValue().getArray().getDataType()));
            }
            // AdamW counted only the updates made: skipped fp16 steps (none at fp32) are not among them
            adam.load(resume.optimizer(), resume.step() - resume.skippedSteps(), params, manager);
            scaler.restore(resume.lossScale(), resume.lossScaleGoodSteps(), resume.skippedSteps());
            step = resume.step();
            epoch = resume.epoch();
            nextBatch = resume.nextBatch();
            tokens = resume.tokens();
            bestEval = resume.bestEvalLoss();
            badEvals = resume.evalsWithoutImprovement();
        }

        List<Double> losses = new ArrayList<>();
        long startNanos = System.nanoTime();
        long tokensThisRun = 0;
        long stepsThisRun = 0;
        String stopReason = "completed";
        int[] order = order(train.size(), epoch);
        while (step < total) {
            // the whole step's weight, so each micro-batch's summed loss is weighted into one step mean
            long stepWeight = 0;
            for (int k = 0; k < config.gradientAccumulationSteps() && nextBatch + k < microPerEpoch; k++) {
                int from = (nextBatch + k) * config.batchSize();
                for (int i = from; i < Math.min(train.size(), from + config.batchSize()); i++) {
                    stepWeight += task.weight(train.get(order[i]));
                }
            }
            double stepLoss = 0;
            int microInStep = 0;
            while (microInStep < config.gradientAccumulationSteps() && nextBatch < microPerEpoch) {
                int from = nextBatch * config.batchSize();
                int to = Math.min(train.size(), from + config.batchSize());
                List<T> items = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    items.add(train.get(order[i]));
                }
                Engine.getInstance().setRandomSeed((int) (config.seed() * 7919 + step * 131 + microInStep));
                Micro micro;
                try (NDManager sub = manager.newSubManager()) {
                    // fp16: the gradient of (loss × S), S the loss scale (1 at fp32), unscaled below
                    micro = task.forwardBackward(items, sub, Math.max(1, stepWeight) / scaler.scale(), step, epoch);
                }
                stepLoss += micro.lossSum();
                tokens += micro.tokens();
                tokensThisRun += micro.tokens();
                microInStep++;
                nextBatch++;
            }
            double rate = lr.at(step);
            if (scaler.unscaleAndCheck(params, step)) {
                clip(params, step, config.maxGradNorm());
                adam.step(params, rate, config.weightDecay(), task::decays);
            } else if (scaler.scale() <= LossScaler.MIN_SCALE) {
                throw new NonFiniteLossException("gradients stayed non-finite with the fp16 loss scale down to "
                        + LossScaler.MIN_SCALE + " at step " + (step + 1) + ": lower the learning rate or use precision fp32");
            } // else: skipped (an overflow under the loss scale, now halved); the schedule moves on as with an update
            zeroGradients(params);
            step++;
            stepsThisRun++;
            boolean endOfEpoch = nextBatch >= microPerEpoch;
            if (endOfEpoch) {
                epoch++;
                nextBatch = 0;
                order = order(train.size(), epoch);
            }
            double mean = stepLoss / Math.max(1, stepWeight);
            losses.add(mean);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            double tps = tokensThisRun / Math.max(elapsed, 1e-9);
            double eta = elapsed / stepsThisRun * (total - step);
            listener.onStep(step, total, epoch, mean, rate, tps, eta);

            boolean last = step >= total;
            if (task.hasValidation()
                    && ((config.evalEverySteps() > 0 && step % config.evalEverySteps() == 0) || endOfEpoch || last)) {
                double evalLoss = task.evaluate(step);
                if (evalLoss < bestEval - 1e-12) {
                    bestEval = evalLoss;
                    badEvals = 0;
                } else {
                    badEvals++;
                }
            }
            boolean earlyStop = config.earlyStoppingPatience() != null && badEvals >= config.earlyStoppingPatience();
            boolean stop = listener.stopRequested();
            if (checkpointRoot != null && ((config.checkpointEverySteps() > 0 && step % config.checkpointEverySteps() == 0)
                    || endOfEpoch || stop || earlyStop || last)) {
                Path dir = checkpointRoot.resolve("checkpoint-" + step);
                Map<String, Tensor> trainable = new LinkedHashMap<>();
                params.forEach((k, p) -> trainable.put(k, Tensor.of(p.getArray())));
                new Checkpoint(step, epoch, nextBatch, config.seed(), total, bestEval, badEvals, tokens, scaler.scale(),
                        scaler.goodSteps(), scaler.skippedSteps(), trainable, adam.state())
                        .write(dir);
                listener.onCheckpoint(step, dir);
                pruneCheckpoints(checkpointRoot, KEEP_CHECKPOINTS);
            }
            if (earlyStop) {
                stopReason = "early_stopping";
                break;
            }
            if (stop && !last) {
                stopReason = "requested";
                break;
            }
        }
        if (stopReason.equals("completed") && config.maxSteps() != null && total < config.epochs() * stepsPerEpoch(train.size())) {
            stopReason = "max_steps";
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return new TrainingResult(step, total, losses, null, seconds, tokensThisRun / Math.max(seconds, 1e-9), tokens,
                stopReason, scaler.skippedSteps(), scaler.scale());
    }

    /** The message every task throws on a non-finite training loss. */
    static void checkFinite(double loss, long step, int epoch) {
        if (!Double.isFinite(loss)) {
            throw new NonFiniteLossException("training loss became " + loss + " at step " + (step + 1)
                    + " (epoch " + (epoch + 1) + "): lower the learning rate or enable max_grad_norm");
        }
    }

    private int[] order(int n, int epoch) {
        List<Integer> idx = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(config.seed() * 1_000_003L + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    static void pruneCheckpoints(Path root, int keep) throws IOException {
        List<Path> dirs;
        try (var s = Files.list(root)) {
            dirs = s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .toList();
        }
        for (int i = 0; i < dirs.size() - keep; i++) {
            try (var files = Files.list(dirs.get(i))) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dirs.get(i));
        }
    }

    /**
     * Scales gradients so their global L2 norm is at most max_grad_norm; returns the norm before clipping.
     * The per-parameter norms are stacked on the native side and read back once (one host round trip per step, as
     * {@code torch.nn.utils.clip_grad_norm_}); only a non-finite total is looked into parameter by parameter.
     */
    static double clip(Map<String, Parameter> params, long step, double maxGradNorm) {
        if (params.isEmpty()) {
            return 0;
        }
        double norm;
        try (NDManager tmp = params.values().iterator().next().getArray().getManager().newSubManager()) {
            NDList norms = new NDList(params.size());
            for (Parameter p : params.values()) {
                NDArray g = p.getArray().getGradient();
                g.attach(tmp);
                NDArray n = g.norm();
                n.attach(tmp);
                norms.add(n);
            }
            NDArray all = NDArrays.stack(norms);
            all.attach(tmp);
            NDArray total = all.norm();
            total.attach(tmp);
            norm = total.getDataType() == DataType.FLOAT64 ? total.getDouble() : total.getFloat();
            if (!Double.isFinite(norm)) {
                int i = 0;
                for (Map.Entry<String, Parameter> e : params.entrySet()) {
                    double v = norms.get(i++).toType(DataType.FLOAT64, false).getDouble();
                    if (!Double.isFinite(v)) {
                        throw new NonFiniteLossException("gradient of '" + e.getKey() + "' became non-finite at step "
                                + (step + 1) + ": lower the learning rate or enable max_grad_norm");
                    }
                }
                throw new NonFiniteLossException("the global gradient norm overflowed at step " + (step + 1)
                        + ": lower the learning rate or enable max_grad_norm");
            }
        }
        if (maxGradNorm > 0 && norm > maxGradNorm) {
            double scale = maxGradNorm / (norm + 1e-6);
            for (Parameter p : params.values()) {
                try (NDArray g = p.getArray().getGradient()) {
                    g.muli(scale);
                }
            }
        }
        return norm;
    }

    /** Zeroes the gradients in place (DJL's native zero_, no scalar operand, no multiply pass). */
    static void zeroGradients(Map<String, Parameter> params) {
        for (Parameter p : params.values()) {
            JniUtils.zeroGrad((PtNDArray) p.getArray());
        }
    }
}
