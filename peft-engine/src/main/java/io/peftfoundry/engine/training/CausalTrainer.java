package io.peftfoundry.engine.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.causal.CausalLmLoss;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.TokenSequence;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The training loop for causal language modelling (sft and continued pretraining) on token sequences. It uses the
 * same pieces as {@link ClassificationTrainer} — AdamW, warmup + linear/cosine schedule, accumulation, global-norm
 * clipping, non-finite detection, periodic evaluation with early stopping, {@link Checkpoint}s and exact resume —
 * with one difference in the loss: every optimizer step averages over the target tokens of all its micro-batches
 * (a token-weighted mean, so a short completion counts as little as it weighs), not over examples.
 *
 * <p>Repeatability as in {@link ClassificationTrainer}: the epoch order is a shuffle seeded by (seed, epoch), dropout
 * is reseeded from (seed, step, micro-batch), so a resumed run replays the uninterrupted one.
 */
public final class CausalTrainer {

    /** What {@link #train} did, plus the last validation metrics (null without a validation set). */
    public record Result(TrainingResult training, CausalEvaluator.Metrics lastEval) {}

    private final CausalModel model;
    private final TrainingConfig config;
    private final NDManager manager;

    public CausalTrainer(CausalModel model, TrainingConfig config, NDManager manager) {
        this.model = model;
        this.config = config;
        this.manager = manager;
    }

    public long stepsPerEpoch(int sequences) {
        long micro = (sequences + config.batchSize() - 1) / config.batchSize();
        return (micro + config.gradientAccumulationSteps() - 1) / config.gradientAccumulationSteps();
    }

    public long totalSteps(int sequences) {
        long total = config.epochs() * stepsPerEpoch(sequences);
        return config.maxSteps() == null ? total : Math.min(total, config.maxSteps());
    }

    private int[] order(int n, int epoch) {
        List<Integer> idx = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(config.seed() * 1_000_003L + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    /** No weight decay on biases and LayerNorms (GPT-2's {@code ln_1}, {@code ln_2}, {@code ln_f}). */
    static boolean decays(String name) {
        return !(name.endsWith("bias") || name.contains(".ln_") || name.startsWith("ln_") || name.contains("norm"));
    }

    public Result train(List<TokenSequence> train, List<TokenSequence> valid, Path checkpointRoot, Checkpoint resume,
            TrainingListener listener) throws IOException {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training sequences");
        }
        Map<String, Parameter> params = model.trainableParameters();
        long total = totalSteps(train.size());
        LearningRateSchedule lr = LearningRateSchedule.of(config.learningRate(), total, config.warmupRatio(), config.cosine());
        AdamW adam = new AdamW();
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
            adam.load(resume.optimizer(), resume.step(), params, manager);
            step = resume.step();
            epoch = resume.epoch();
            nextBatch = resume.nextBatch();
            tokens = resume.tokens();
            bestEval = resume.bestEvalLoss();
            badEvals = resume.evalsWithoutImprovement();
        }

        List<Double> losses = new ArrayList<>();
        CausalEvaluator.Metrics lastEval = null;
        long startNanos = System.nanoTime();
        long tokensThisRun = 0;
        long stepsThisRun = 0;
        String stopReason = "completed";
        int[] order = order(train.size(), epoch);
        while (step < total) {
            // target tokens of the whole step, so each micro-batch's summed NLL is weighted into one token mean
            long stepTargets = 0;
            for (int k = 0; k < config.gradientAccumulationSteps() && nextBatch + k < microPerEpoch; k++) {
                int from = (nextBatch + k) * config.batchSize();
                for (int i = from; i < Math.min(train.size(), from + config.batchSize()); i++) {
                    stepTargets += train.get(order[i]).targetCount();
                }
            }
            double stepNll = 0;
            int microInStep = 0;
            while (microInStep < config.gradientAccumulationSteps() && nextBatch < microPerEpoch) {
                int from = nextBatch * config.batchSize();
                int to = Math.min(train.size(), from + config.batchSize());
                List<TokenSequence> items = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    items.add(train.get(order[i]));
                }
                CausalBatch batch = CausalBatch.of(items, model.padId());
                Engine.getInstance().setRandomSeed((int) (config.seed() * 7919 + step * 131 + microInStep));
                try (NDManager sub = manager.newSubManager()) {
                    NDList in = new NDList(CausalBatch.create(sub, batch.ids()), CausalBatch.create(sub, batch.mask()));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        CausalLmLoss.Sums s = CausalLmLoss.compute(model.logits(in, true), batch.ids(), batch.targets());
                        double nll = s.nll().getFloat();
                        if (!Double.isFinite(nll)) {
                            throw new NonFiniteLossException("training loss became " + nll + " at step " + (step + 1)
                                    + " (epoch " + (epoch + 1) + "): lower the learning rate or enable max_grad_norm");
                        }
                        stepNll += nll;
                        gc.backward(Ops.scale(s.nll(), 1.0 / Math.max(1, stepTargets)));
                    }
                }
                tokens += batch.tokens();
                tokensThisRun += batch.tokens();
                microInStep++;
                nextBatch++;
            }
            ClassificationTrainer.clip(params, step, config.maxGradNorm());
            double rate = lr.at(step);
            adam.step(params, rate, config.weightDecay(), CausalTrainer::decays);
            ClassificationTrainer.zeroGradients(params);
            step++;
            stepsThisRun++;
            boolean endOfEpoch = nextBatch >= microPerEpoch;
            if (endOfEpoch) {
                epoch++;
                nextBatch = 0;
                order = order(train.size(), epoch);
            }
            double mean = stepNll / Math.max(1, stepTargets);
            losses.add(mean);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            double tps = tokensThisRun / Math.max(elapsed, 1e-9);
            double eta = elapsed / stepsThisRun * (total - step);
            listener.onStep(step, total, epoch, mean, rate, tps, eta);

            boolean last = step >= total;
            if (valid != null && !valid.isEmpty()
                    && ((config.evalEverySteps() > 0 && step % config.evalEverySteps() == 0) || endOfEpoch || last)) {
                lastEval = evaluate(valid);
                listener.onCausalEval(step, lastEval);
                if (lastEval.loss() < bestEval - 1e-12) {
                    bestEval = lastEval.loss();
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
                new Checkpoint(step, epoch, nextBatch, config.seed(), total, bestEval, badEvals, tokens, trainable, adam.state())
                        .write(dir);
                listener.onCheckpoint(step, dir);
                ClassificationTrainer.pruneCheckpoints(checkpointRoot, ClassificationTrainer.KEEP_CHECKPOINTS);
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
        TrainingResult result = new TrainingResult(step, total, losses, null, seconds, tokensThisRun / Math.max(seconds, 1e-9),
                tokens, stopReason);
        return new Result(result, lastEval);
    }

    /** Token-weighted loss, perplexity and token accuracy (no dropout, no gradients). */
    public CausalEvaluator.Metrics evaluate(List<TokenSequence> data) {
        return CausalEvaluator.evaluate(model.module(), data, Math.max(config.batchSize(), 8), model.padId(), manager);
    }
}
