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
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.SequenceClassifier;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The training loop for sequence classification: AdamW with decoupled weight decay, warmup then
 * linear/cosine decay, gradient accumulation, global-norm clipping, non-finite detection, periodic
 * evaluation with optional early stopping, checkpoints and resume.
 *
 * <p>Repeatability: the epoch order is a shuffle seeded by (seed, epoch) and the engine RNG (dropout)
 * is reseeded from (seed, step, micro-batch) before every forward pass, so a resumed run replays the
 * same data and dropout masks as an uninterrupted one. Bit-identical curves also need one intra-op
 * thread ({@code -Dai.djl.pytorch.num_threads=1}); with more, PyTorch's parallel reductions make
 * runs drift apart slowly (FACTS.md).
 */
public final class ClassificationTrainer {

    private final ClassificationModel model;
    private final TextTokenizer tokenizer;
    private final TrainingConfig config;
    private final NDManager manager;

    public ClassificationTrainer(ClassificationModel model, TextTokenizer tokenizer, TrainingConfig config, NDManager manager) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config;
        this.manager = manager;
    }

    private record Encoded(TextTokenizer.Encoded tokens, int label) {}

    private List<Encoded> encode(List<Example> data, String what) {
        List<Encoded> out = new ArrayList<>(data.size());
        for (int i = 0; i < data.size(); i++) {
            Example e = data.get(i);
            int label = e.label() == null ? -1 : model.labels().id(e.label());
            if (e.label() != null && label < 0) {
                throw new IllegalArgumentException(what + " example " + (i + 1) + ": label '" + e.label()
                        + "' is not one of the training labels " + model.labels().labels());
            }
            out.add(new Encoded(tokenizer.encodeOne(e.text(), e.textPair()), label));
        }
        return out;
    }

    public long stepsPerEpoch(int examples) {
        long micro = (examples + config.batchSize() - 1) / config.batchSize();
        return (micro + config.gradientAccumulationSteps() - 1) / config.gradientAccumulationSteps();
    }

    public long totalSteps(int examples) {
        long total = config.epochs() * stepsPerEpoch(examples);
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

    private static boolean decays(String name) {
        return !(name.endsWith("bias") || name.contains("LayerNorm"));
    }

    /**
     * Trains; writes checkpoints under {@code checkpointRoot/checkpoint-<step>} when it is not null,
     * and continues from {@code resume} when it is not null.
     */
    public TrainingResult train(List<Example> trainData, List<Example> validation, Path checkpointRoot, Checkpoint resume,
            TrainingListener listener) throws IOException {
        List<Encoded> train = encode(trainData, "training");
        List<Encoded> valid = validation == null ? null : encode(validation, "validation");
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
        EvalResult lastEval = null;
        long startNanos = System.nanoTime();
        long tokensThisRun = 0;
        long stepsThisRun = 0;
        String stopReason = "completed";
        int[] order = order(train.size(), epoch);
        while (step < total) {
            double stepLoss = 0;
            int stepExamples = 0;
            int microInStep = 0;
            // examples in this step, to weight each micro-batch's mean loss into the step mean
            int stepSize = 0;
            for (int k = 0; k < config.gradientAccumulationSteps() && nextBatch + k < microPerEpoch; k++) {
                int from = (nextBatch + k) * config.batchSize();
                stepSize += Math.min(config.batchSize(), train.size() - from);
            }
            while (microInStep < config.gradientAccumulationSteps() && nextBatch < microPerEpoch) {
                int from = nextBatch * config.batchSize();
                int to = Math.min(train.size(), from + config.batchSize());
                List<TextTokenizer.Encoded> items = new ArrayList<>();
                long[] labels = new long[to - from];
                for (int i = from; i < to; i++) {
                    Encoded e = train.get(order[i]);
                    items.add(e.tokens());
                    labels[i - from] = e.label();
                }
                TextTokenizer.Batch batch = tokenizer.pad(items);
                Engine.getInstance().setRandomSeed((int) (config.seed() * 7919 + step * 131 + microInStep));
                try (NDManager sub = manager.newSubManager()) {
                    NDList in = batch.toNDList(sub);
                    NDArray y = sub.create(labels);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = SequenceClassifier.crossEntropy(model.logits(in, true), y);
                        double lv = loss.getFloat();
                        if (!Double.isFinite(lv)) {
                            throw new NonFiniteLossException("training loss became " + lv + " at step " + (step + 1)
                                    + " (epoch " + (epoch + 1) + "): lower the learning rate or enable max_grad_norm");
                        }
                        stepLoss += lv * labels.length;
                        gc.backward(Ops.scale(loss, (double) labels.length / stepSize));
                    }
                }
                tokens += batch.tokens();
                tokensThisRun += batch.tokens();
                stepExamples += labels.length;
                microInStep++;
                nextBatch++;
            }
            clip(params, step, config.maxGradNorm());
            double rate = lr.at(step);
            adam.step(params, rate, config.weightDecay(), ClassificationTrainer::decays);
            zeroGradients(params);
            step++;
            stepsThisRun++;
            boolean endOfEpoch = nextBatch >= microPerEpoch;
            if (endOfEpoch) {
                epoch++;
                nextBatch = 0;
                order = order(train.size(), epoch);
            }
            double mean = stepLoss / stepExamples;
            losses.add(mean);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            double tps = tokensThisRun / Math.max(elapsed, 1e-9);
            double eta = elapsed / stepsThisRun * (total - step);
            listener.onStep(step, total, epoch, mean, rate, tps, eta);

            boolean last = step >= total;
            if (valid != null && ((config.evalEverySteps() > 0 && step % config.evalEverySteps() == 0) || endOfEpoch || last)) {
                lastEval = evaluateEncoded(valid);
                listener.onEval(step, lastEval);
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
                checkpoint(params, adam, step, epoch, nextBatch, total, bestEval, badEvals, tokens).write(dir);
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
        return new TrainingResult(step, total, losses, lastEval, seconds, tokensThisRun / Math.max(seconds, 1e-9), tokens,
                stopReason);
    }

    /** Checkpoints kept on disk (a full fine-tune's are the size of the model); older ones are deleted. */
    public static final int KEEP_CHECKPOINTS = 2;

    static void pruneCheckpoints(Path root, int keep) throws IOException {
        List<Path> dirs;
        try (var s = java.nio.file.Files.list(root)) {
            dirs = s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
                    .sorted(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .toList();
        }
        for (int i = 0; i < dirs.size() - keep; i++) {
            try (var files = java.nio.file.Files.list(dirs.get(i))) {
                for (Path f : files.toList()) {
                    java.nio.file.Files.delete(f);
                }
            }
            java.nio.file.Files.delete(dirs.get(i));
        }
    }

    private Checkpoint checkpoint(Map<String, Parameter> params, AdamW adam, long step, int epoch, int nextBatch, long total,
            double bestEval, int badEvals, long tokens) {
        Map<String, Tensor> trainable = new java.util.LinkedHashMap<>();
        params.forEach((k, p) -> trainable.put(k, Tensor.of(p.getArray())));
        return new Checkpoint(step, epoch, nextBatch, config.seed(), total, bestEval, badEvals, tokens, trainable, adam.state());
    }

    /** Scales gradients so their global L2 norm is at most max_grad_norm; returns the norm before clipping. */
    static double clip(Map<String, Parameter> params, long step, double maxGradNorm) {
        double sq = 0;
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            try (NDArray g = e.getValue().getArray().getGradient(); NDArray s = g.square(); NDArray sum = s.sum()) {
                double v = sum.getDataType() == ai.djl.ndarray.types.DataType.FLOAT64 ? sum.getDouble() : sum.getFloat();
                if (!Double.isFinite(v)) {
                    throw new NonFiniteLossException("gradient of '" + e.getKey() + "' became non-finite at step "
                            + (step + 1) + ": lower the learning rate or enable max_grad_norm");
                }
                sq += v;
            }
        }
        double norm = Math.sqrt(sq);
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

    static void zeroGradients(Map<String, Parameter> params) {
        for (Parameter p : params.values()) {
            try (NDArray g = p.getArray().getGradient()) {
                g.muli(0);
            }
        }
    }

    /** Loss and metrics on labelled examples (no dropout, no gradients). */
    public EvalResult evaluate(List<Example> data) {
        return evaluateEncoded(encode(data, "evaluation"));
    }

    private EvalResult evaluateEncoded(List<Encoded> data) {
        int n = data.size();
        int[] truth = new int[n];
        int[] pred = new int[n];
        double lossSum = 0;
        int bs = Math.max(config.batchSize(), 32);
        for (int from = 0; from < n; from += bs) {
            int to = Math.min(n, from + bs);
            List<TextTokenizer.Encoded> items = new ArrayList<>();
            long[] labels = new long[to - from];
            for (int i = from; i < to; i++) {
                items.add(data.get(i).tokens());
                labels[i - from] = data.get(i).label();
                truth[i] = data.get(i).label();
            }
            try (NDManager sub = manager.newSubManager()) {
                NDArray logits = model.logits(tokenizer.pad(items).toNDList(sub), false);
                lossSum += SequenceClassifier.crossEntropy(logits, sub.create(labels)).getFloat() * labels.length;
                long[] am = logits.argMax(1).toLongArray();
                for (int i = 0; i < am.length; i++) {
                    pred[from + i] = (int) am[i];
                }
            }
        }
        return EvalResult.of(model.labels().labels(), truth, pred, lossSum);
    }

    /** Class probabilities (N, L) for unlabelled examples. */
    public float[][] predict(List<Example> data) {
        List<Encoded> enc = new ArrayList<>();
        for (Example e : data) {
            enc.add(new Encoded(tokenizer.encodeOne(e.text(), e.textPair()), -1));
        }
        float[][] out = new float[data.size()][];
        int bs = Math.max(config.batchSize(), 32);
        for (int from = 0; from < enc.size(); from += bs) {
            int to = Math.min(enc.size(), from + bs);
            List<TextTokenizer.Encoded> items = new ArrayList<>();
            for (int i = from; i < to; i++) {
                items.add(enc.get(i).tokens());
            }
            try (NDManager sub = manager.newSubManager()) {
                NDArray probs = model.logits(tokenizer.pad(items).toNDList(sub), false).softmax(-1);
                for (int i = from; i < to; i++) {
                    out[i] = probs.get(i - from).toFloatArray();
                }
            }
        }
        return out;
    }
}
