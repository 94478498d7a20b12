package io.peftfoundry.engine.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.SequenceClassifier;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Sequence classification on the shared {@link TrainingLoop} (AdamW with decoupled weight decay, warmup then
 * linear/cosine decay, gradient accumulation, global-norm clipping, non-finite detection, periodic evaluation with
 * optional early stopping, checkpoints and an exact resume; its javadoc says what makes runs repeatable). What is its
 * own: encoding labelled examples, the cross-entropy over examples, and accuracy/F1 evaluation and prediction.
 */
public final class ClassificationTrainer {

    private final ClassificationModel model;
    private final TextTokenizer tokenizer;
    private final TrainingConfig config;
    private final NDManager manager;
    private final TrainingLoop loop;

    public ClassificationTrainer(ClassificationModel model, TextTokenizer tokenizer, TrainingConfig config, NDManager manager) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config;
        this.manager = manager;
        this.loop = new TrainingLoop(config, manager);
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
        return loop.stepsPerEpoch(examples);
    }

    public long totalSteps(int examples) {
        return loop.totalSteps(examples);
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
        EvalResult[] lastEval = new EvalResult[1];
        TrainingLoop.Task<Encoded> task = new TrainingLoop.Task<>() {
            @Override
            public long weight(Encoded item) {
                return 1;
            }

            @Override
            public TrainingLoop.Micro forwardBackward(List<Encoded> items, NDManager sub, double stepWeight, long step,
                    int epoch) {
                List<TextTokenizer.Encoded> tokens = new ArrayList<>(items.size());
                long[] labels = new long[items.size()];
                for (int i = 0; i < items.size(); i++) {
                    tokens.add(items.get(i).tokens());
                    labels[i] = items.get(i).label();
                }
                TextTokenizer.Batch batch = tokenizer.pad(tokens);
                NDList in = batch.toNDList(sub);
                NDArray y = sub.create(labels);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = SequenceClassifier.crossEntropy(model.logits(in, true), y);
                    double lv = loss.getFloat();
                    TrainingLoop.checkFinite(lv, step, epoch);
                    gc.backward(Ops.scale(loss, labels.length / stepWeight));
                    return new TrainingLoop.Micro(lv * labels.length, batch.tokens());
                }
            }

            @Override
            public boolean hasValidation() {
                return valid != null;
            }

            @Override
            public double evaluate(long step) {
                lastEval[0] = evaluateEncoded(valid);
                listener.onEval(step, lastEval[0]);
                return lastEval[0].loss();
            }

            @Override
            public boolean decays(String name) {
                return ClassificationTrainer.decays(name);
            }
        };
        TrainingResult r = loop.run(train, model.trainableParameters(), task, checkpointRoot, resume, listener);
        return r.withLastEval(lastEval[0]);
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
