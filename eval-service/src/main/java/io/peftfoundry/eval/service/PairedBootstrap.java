package io.peftfoundry.eval.service;

import java.util.Arrays;
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

    /** Linear interpolation between the closest ranks of a sorted array. */
    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
