package io.peftfoundry.eval.service;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Paired bootstrap interval for the accuracy difference of two models scored on the same examples: resample the
 * examples with replacement {@code resamples} times, take {@code mean(a_i) − mean(b_i)} over each resample, and
 * report the 2.5 % and 97.5 % percentiles (percentile method). Pairing keeps the per-example correlation of the two
 * models, so the interval is much narrower than two independent ones would suggest. Seeded: the same inputs give
 * the same interval.
 */
public final class PairedBootstrap {

    public static final int DEFAULT_RESAMPLES = 2000;

    public record Interval(double delta, double low, double high, int resamples) {}

    private PairedBootstrap() {}

    /**
     * @param a per-example correctness of the adapter
     * @param b per-example correctness of the baseline, same examples in the same order
     */
    public static Interval accuracyDelta(boolean[] a, boolean[] b, int resamples, long seed) {
        if (a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("paired bootstrap needs two equally long, non-empty outcome lists ("
                    + a.length + " vs " + b.length + ")");
        }
        int n = a.length;
        // only the per-example difference matters: -1, 0 or +1
        int[] diff = new int[n];
        long sum = 0;
        for (int i = 0; i < n; i++) {
            diff[i] = (a[i] ? 1 : 0) - (b[i] ? 1 : 0);
            sum += diff[i];
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[] deltas = new double[resamples];
        for (int r = 0; r < resamples; r++) {
            long s = 0;
            for (int i = 0; i < n; i++) {
                s += diff[random.nextInt(n)];
            }
            deltas[r] = (double) s / n;
        }
        Arrays.sort(deltas);
        return new Interval((double) sum / n, percentile(deltas, 0.025), percentile(deltas, 0.975), resamples);
    }

    /**
     * Paired bootstrap 95 % intervals of the causal-LM deltas {@code a − b} over the same validation sequences: each
     * resample draws sequences with replacement and recomputes, for both models on that resample, loss
     * {@code Σnll/Σtargets}, perplexity {@code exp(loss)} and token accuracy {@code Σcorrect/Σtargets} (ratios of sums,
     * as the metrics themselves are), then takes the 2.5 and 97.5 percentiles of the deltas. Exact match is resampled
     * over its own cases (the first examples of the file) as {@link #accuracyDelta}. Metrics missing on either side, or
     * with lists of different lengths (not the same data), get no interval.
     *
     * @return metric → interval (loss, perplexity, token_accuracy, exact_match)
     */
    public static Map<String, Interval> causalDeltas(CausalOutcomes a, CausalOutcomes b, int resamples, long seed) {
        Map<String, Interval> out = new LinkedHashMap<>();
        int n = a.sequences();
        if (n > 0 && n == b.sequences()) {
            double[] loss = new double[resamples];
            double[] ppl = new double[resamples];
            double[] acc = new double[resamples];
            SplittableRandom random = new SplittableRandom(seed);
            for (int r = 0; r < resamples; r++) {
                double nllA = 0;
                double nllB = 0;
                long tA = 0;
                long tB = 0;
                long cA = 0;
                long cB = 0;
                for (int k = 0; k < n; k++) {
                    int i = random.nextInt(n);
                    nllA += a.nll()[i];
                    nllB += b.nll()[i];
                    tA += a.targets()[i];
                    tB += b.targets()[i];
                    cA += a.tokenCorrect()[i];
                    cB += b.tokenCorrect()[i];
                }
                double lA = nllA / Math.max(1, tA);
                double lB = nllB / Math.max(1, tB);
                loss[r] = lA - lB;
                ppl[r] = Math.exp(lA) - Math.exp(lB);
                acc[r] = (double) cA / Math.max(1, tA) - (double) cB / Math.max(1, tB);
            }
            double lA = ratio(sum(a.nll()), sum(a.targets()));
            double lB = ratio(sum(b.nll()), sum(b.targets()));
            out.put("loss", interval(lA - lB, loss));
            out.put("perplexity", interval(Math.exp(lA) - Math.exp(lB), ppl));
            out.put("token_accuracy", interval(ratio(sum(a.tokenCorrect()), sum(a.targets()))
                    - ratio(sum(b.tokenCorrect()), sum(b.targets())), acc));
        }
        if (a.exactMatch().length > 0 && a.exactMatch().length == b.exactMatch().length) {
            out.put("exact_match", accuracyDelta(a.exactMatch(), b.exactMatch(), resamples, seed + 1));
        }
        return out;
    }

    private static Interval interval(double delta, double[] resampled) {
        double[] sorted = resampled.clone();
        Arrays.sort(sorted);
        return new Interval(delta, percentile(sorted, 0.025), percentile(sorted, 0.975), sorted.length);
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }

    private static double sum(long[] v) {
        double s = 0;
        for (long x : v) {
            s += x;
        }
        return s;
    }

    private static double ratio(double num, double den) {
        return num / Math.max(1, den);
    }

    /** Linear interpolation between the closest ranks of a sorted array. */
    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
