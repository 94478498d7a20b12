package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.model.TorchOps;

/**
 * Next-token cross-entropy: logits at position t−1 predict token t, averaged over the tokens whose
 * target flag is 1 (SFT: completion + EOS; continued pretraining: everything but padding).
 */
public final class CausalLmLoss {

    private CausalLmLoss() {}

    /** Summed negative log-likelihood and counts of one batch. */
    public record Sums(NDArray nll, long targets, long correct) {
        /** Mean loss over the targets (the value that is differentiated). */
        public NDArray mean() {
            return Ops.scale(nll, 1.0 / Math.max(1, targets));
        }
    }

    /** Per row of a batch: summed negative log-likelihood of its targets, their count, and how many the argmax got right. */
    public record Rows(double[] nll, long[] targets, long[] correct) {}

    /**
     * The same loss as {@link #compute}, kept per row (no gradient): what a paired comparison of two models over the
     * same sequences resamples.
     */
    public static Rows perRow(NDArray logits, long[][] ids, long[][] targets) {
        int b = (int) logits.getShape().get(0);
        int t = (int) logits.getShape().get(1);
        double[] nll = new double[b];
        long[] count = new long[b];
        long[] correct = new long[b];
        if (t < 2) {
            return new Rows(nll, count, correct);
        }
        NDManager m = logits.getManager();
        long[][] next = new long[b][t - 1];
        for (int i = 0; i < b; i++) {
            for (int j = 1; j < t; j++) {
                next[i][j - 1] = ids[i][j];
            }
        }
        NDArray pred = logits.get(":, 0:" + (t - 1) + ", :");
        NDArray logp = pred.logSoftmax(-1);
        float[] tokenLogp = targetLogp(logp, m, next).toType(DataType.FLOAT32, false).toFloatArray();
        long[] best = pred.argMax(-1).toType(DataType.INT64, false).toLongArray();
        for (int i = 0; i < b; i++) {
            for (int j = 1; j < t; j++) {
                if (targets[i][j] != 0) {
                    int k = i * (t - 1) + j - 1;
                    nll[i] -= tokenLogp[k];
                    count[i]++;
                    if (best[k] == next[i][j - 1]) {
                        correct[i]++;
                    }
                }
            }
        }
        return new Rows(nll, count, correct);
    }

    /**
     * {@code logp[b, t, next[b][t]]}: (B, T-1, V) → (B, T-1), differentiable (backward scatters into a zero (B, T-1, V)
     * array). A gather, as PyTorch's cross_entropy does, rather than a product with a one-hot (B, T-1, V) array: at a
     * 128,256-token vocabulary and 512 tokens that one-hot was 525 MB as int64 plus 263 MB as float, kept to backward.
     */
    private static NDArray targetLogp(NDArray logp, NDManager m, long[][] next) {
        try (NDArray ids = CausalBatch.create(m, next)) {
            NDArray index = ids.expandDims(2).duplicate(); // owned by PyTorch: gather keeps it for backward
            return logp.gather(index, 2).squeeze(2);
        }
    }

    /**
     * The summed negative log-likelihood alone, as a differentiable array: what training needs of {@link #compute},
     * without the argmax over the (B, T, V) logits that counts correct tokens (training reports no accuracy).
     */
    public static NDArray nll(NDArray logits, long[][] ids, long[][] targets) {
        int t = (int) logits.getShape().get(1);
        if (t < 2) {
            return Ops.scale(logits.sum(), 0.0);
        }
        return nllSum(logits, labels(ids, targets, (int) logits.getShape().get(0), t));
    }

    /**
     * @param logits (B, T, V)
     * @param ids (B, T) int64, the tokens
     * @param targets (B, T) plain flags, 1 where the token is a loss target
     */
    public static Sums compute(NDArray logits, long[][] ids, long[][] targets) {
        long b = logits.getShape().get(0);
        int t = (int) logits.getShape().get(1);
        if (t < 2) {
            return new Sums(Ops.scale(logits.sum(), 0.0), 0, 0);
        }
        long[][] labels = labels(ids, targets, (int) b, t);
        long count = 0;
        for (long[] row : labels) {
            for (long label : row) {
                if (label != TorchOps.NO_TARGET) {
                    count++;
                }
            }
        }
        NDArray nll = nllSum(logits, labels);
        long correct = 0;
        try (NDArray arg = logits.argMax(-1).toType(DataType.INT64, false)) {
            long[] best = arg.toLongArray(); // (B, T): position j's most likely next token
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t - 1; j++) {
                    if (labels[i][j] != TorchOps.NO_TARGET && best[i * t + j] == labels[i][j]) {
                        correct++;
                    }
                }
            }
        }
        return new Sums(nll, count, correct);
    }

    /**
     * labels[i][j] = the token position j predicts (ids[i][j+1]) where that token is a target, else NO_TARGET (the
     * last position predicts nothing). One cross-entropy over all (B, T) positions, as transformers computes it, rather
     * than slicing off the last position (whose backward writes a zero (B, T, V) array and copies into it), gathering
     * log-probabilities and weighting them.
     */
    private static long[][] labels(long[][] ids, long[][] targets, int b, int t) {
        long[][] labels = new long[b][t];
        for (int i = 0; i < b; i++) {
            labels[i][t - 1] = TorchOps.NO_TARGET;
            for (int j = 1; j < t; j++) {
                labels[i][j - 1] = targets[i][j] != 0 ? ids[i][j] : TorchOps.NO_TARGET;
            }
        }
        return labels;
    }

    private static NDArray nllSum(NDArray logits, long[][] labels) {
        try (NDArray host = CausalBatch.create(logits.getManager(), labels)) {
            return TorchOps.nllSum(logits, host.duplicate()); // owned by PyTorch: cross_entropy keeps it for backward
        }
    }
}
