package io.peftfoundry.engine.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.model.GradientCheckpointing;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.causal.CausalLmLoss;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.TokenSequence;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Causal language modelling (sft and continued pretraining) on token sequences, on the shared {@link TrainingLoop}
 * (AdamW, schedule, accumulation, clipping, evaluation with early stopping, checkpoints, exact resume). What is its
 * own: the next-token loss, and that every optimizer step averages over the target tokens of all its micro-batches
 * (a token-weighted mean, so a short completion counts as little as it weighs), not over examples.
 */
public final class CausalTrainer {

    /** What {@link #train} did, plus the last validation metrics (null without a validation set). */
    public record Result(TrainingResult training, CausalEvaluator.Metrics lastEval) {}

    private final CausalModel model;
    private final TrainingConfig config;
    private final NDManager manager;
    private final TrainingLoop loop;

    public CausalTrainer(CausalModel model, TrainingConfig config, NDManager manager) {
        this.model = model;
        this.config = config;
        this.manager = manager;
        this.loop = new TrainingLoop(config, manager);
    }

    public long stepsPerEpoch(int sequences) {
        return loop.stepsPerEpoch(sequences);
    }

    public long totalSteps(int sequences) {
        return loop.totalSteps(sequences);
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
        CausalEvaluator.Metrics[] lastEval = new CausalEvaluator.Metrics[1];
        TrainingLoop.Task<TokenSequence> task = new TrainingLoop.Task<>() {
            @Override
            public long weight(TokenSequence item) {
                return item.targetCount();
            }

            @Override
            public TrainingLoop.Micro forwardBackward(List<TokenSequence> items, NDManager sub, double stepWeight,
                    long step, int epoch) {
                CausalBatch batch = CausalBatch.of(items, model.padId());
                NDList in = new NDList(CausalBatch.create(sub, batch.ids()), CausalBatch.create(sub, batch.mask()));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    GradientCheckpointing checkpointing = config.gradientCheckpointing() ? new GradientCheckpointing(sub) : null;
                    NDArray logits = checkpointing != null ? model.logits(in, checkpointing) : model.logits(in, true);
                    NDArray summed = CausalLmLoss.nll(logits, batch.ids(), batch.targets());
                    double nll = summed.getFloat();
                    TrainingLoop.checkFinite(nll, step, epoch);
                    NDArray scaled = Ops.scale(summed, 1.0 / stepWeight);
                    if (checkpointing != null) {
                        checkpointing.backward(gc, scaled);
                    } else {
                        gc.backward(scaled);
                    }
                    return new TrainingLoop.Micro(nll, batch.tokens());
                }
            }

            @Override
            public boolean hasValidation() {
                return valid != null && !valid.isEmpty();
            }

            @Override
            public double evaluate(long step) {
                lastEval[0] = CausalTrainer.this.evaluate(valid);
                listener.onCausalEval(step, lastEval[0]);
                return lastEval[0].loss();
            }

            @Override
            public boolean decays(String name) {
                return CausalTrainer.decays(name);
            }
        };
        TrainingResult result = loop.run(train, model.trainableParameters(), task, checkpointRoot, resume, listener);
        return new Result(result, lastEval[0]);
    }

    /** Token-weighted loss, perplexity and token accuracy (no dropout, no gradients). */
    public CausalEvaluator.Metrics evaluate(List<TokenSequence> data) {
        return CausalEvaluator.evaluate(model.module(), data, Math.max(config.batchSize(), 8), model.padId(), manager);
    }
}
