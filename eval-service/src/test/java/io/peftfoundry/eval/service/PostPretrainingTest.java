package io.peftfoundry.eval.service;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two-stage vs SFT-only block and the paired bootstrap intervals of causal-LM deltas. */
class PostPretrainingTest {

    private static final int RESAMPLES = PairedBootstrap.DEFAULT_RESAMPLES;

    /** P(X ≤ c) for X ~ Binomial(n, p), by summing the probability mass function. */
    private static double binomialCdf(int n, double p, int c) {
        double sum = 0;
        double pmf = Math.pow(1 - p, n); // P(X = 0)
        for (int k = 0; k <= c; k++) {
            sum += pmf;
            pmf *= (double) (n - k) / (k + 1) * p / (1 - p);
        }
        return sum;
    }

    /** The smallest c with P(X ≤ c) ≥ q, X ~ Binomial(n, p). */
    private static int binomialQuantile(int n, double p, double q) {
        int c = 0;
        while (binomialCdf(n, p, c) < q) {
            c++;
        }
        return c;
    }

    private static CausalOutcomes outcomes(double[] nll, long[] targets, long[] correct, boolean[] exact) {
        return new CausalOutcomes(nll, targets, correct, exact);
    }

    /**
     * Every sequence has one target; the two-stage adapter gets the first 30 of 100 right, SFT-only none. A resample
     * then counts how many of its 100 draws fall among those 30: the token-accuracy delta of a resample is exactly
     * Binomial(100, 0.3)/100. So the interval's ends are the 2.5 % and 97.5 % quantiles of that binomial, up to the
     * Monte-Carlo error of 2,000 resamples: with ~50 resamples expected below the 2.5 % quantile, the estimate lies
     * between the 1 % and 5 % quantiles (20 and 100 expected resamples below them) except with negligible probability.
     * Exact match, resampled over its own cases, is the same binomial.
     */
    @Test
    void tokenAccuracyAndExactMatchIntervalsAreTheBinomialQuantilesOfTheResampledDelta() {
        int n = 100;
        double[] nll = new double[n];
        long[] ones = new long[n];
        long[] correctA = new long[n];
        long[] correctB = new long[n];
        boolean[] exactA = new boolean[n];
        boolean[] exactB = new boolean[n];
        for (int i = 0; i < n; i++) {
            nll[i] = 1.0;
            ones[i] = 1;
            correctA[i] = i < 30 ? 1 : 0;
            exactA[i] = i < 30;
        }
        Map<String, PairedBootstrap.Interval> ci = PairedBootstrap.causalDeltas(outcomes(nll, ones, correctA, exactA),
                outcomes(nll, ones, correctB, exactB), RESAMPLES, 11);
        for (String m : List.of("token_accuracy", "exact_match")) {
            PairedBootstrap.Interval i = ci.get(m);
            assertEquals(0.30, i.delta(), 1e-12, m);
            assertTrue(i.low() >= binomialQuantile(n, 0.3, 0.01) / 100.0 && i.low() <= binomialQuantile(n, 0.3, 0.05) / 100.0,
                    m + " low " + i.low() + " outside [" + binomialQuantile(n, 0.3, 0.01) + ", "
                            + binomialQuantile(n, 0.3, 0.05) + "]/100");
            assertTrue(i.high() >= binomialQuantile(n, 0.3, 0.95) / 100.0 && i.high() <= binomialQuantile(n, 0.3, 0.99) / 100.0,
                    m + " high " + i.high());
        }
        // the same NLL everywhere: no loss difference on any resample
        assertEquals(0.0, ci.get("loss").low(), 0.0);
        assertEquals(0.0, ci.get("loss").high(), 0.0);
    }

    /**
     * Per-token NLL 2.0 for the two-stage adapter and 2.5 for SFT-only on every sequence (sequences of 1–7 targets):
     * every resample has loss 2.0 vs 2.5, so the interval is the single point −0.5, and perplexity's is
     * e^2 − e^2.5; both say the two-stage adapter is better.
     */
    @Test
    void aConstantPerTokenLossGapGivesAPointIntervalAndAVerdict() {
        int n = 40;
        double[] a = new double[n];
        double[] b = new double[n];
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + i % 7;
            a[i] = 2.0 * t[i];
            b[i] = 2.5 * t[i];
        }
        CausalOutcomes two = outcomes(a, t, new long[n], new boolean[0]);
        CausalOutcomes one = outcomes(b, t, new long[n], new boolean[0]);
        Map<String, PairedBootstrap.Interval> ci = PairedBootstrap.causalDeltas(two, one, RESAMPLES, 5);
        assertEquals(-0.5, ci.get("loss").low(), 1e-12);
        assertEquals(-0.5, ci.get("loss").high(), 1e-12);
        assertEquals(Math.exp(2.0) - Math.exp(2.5), ci.get("perplexity").low(), 1e-9);
        assertEquals(Math.exp(2.0) - Math.exp(2.5), ci.get("perplexity").high(), 1e-9);
        assertNull(ci.get("exact_match"), "no exact-match cases, no interval");

        Map<String, Object> block = PostPretraining.compare(PostPretraining.waiting("adapter-cpt", List.of(
                        Map.of("stage", 1, "task", "continued_pretraining", "steps", 10, "training_file", "file-text"),
                        Map.of("stage", 2, "task", "sft", "steps", 10))), "ftjob-sft-only", "eval-b",
                Map.of("loss", 2.0, "perplexity", Math.exp(2.0), "token_accuracy", 0.4, "examples", 40),
                two, Map.of("loss", 2.5, "perplexity", Math.exp(2.5), "token_accuracy", 0.4), one);
        assertEquals("compared", block.get("status"));
        assertEquals("adapter-cpt", block.get("init_adapter"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> stages = (List<Map<String, Object>>) block.get("pretraining_stages");
        assertEquals(1, stages.size(), "the earlier stage only, not the SFT stage itself");
        assertEquals("continued_pretraining", stages.get(0).get("task"));
        @SuppressWarnings("unchecked")
        Map<String, Double> delta = (Map<String, Double>) block.get("delta");
        assertEquals(-0.5, delta.get("loss"), 1e-12);
        assertEquals(0.0, delta.get("token_accuracy"), 1e-12);
        assertNull(delta.get("exact_match"), "neither side has exact match");
        @SuppressWarnings("unchecked")
        Map<String, String> verdict = (Map<String, String>) block.get("verdict");
        assertEquals("two_stage_better", verdict.get("loss"));
        assertEquals("two_stage_better", verdict.get("perplexity"));
        assertEquals("no_clear_difference", verdict.get("token_accuracy"));
        assertEquals(40, block.get("examples"));
        assertEquals(RESAMPLES, block.get("resamples"));
    }

    /**
     * Coverage by simulation: 200 validation sets of 150 sequences with 4 targets each; per target the two-stage model
     * is right with probability 0.55, SFT-only with 0.50, so the true token-accuracy delta is 0.05. A 95 % interval
     * should hold it in about 95 % of the sets; with 200 sets the count's standard deviation is 1.5 points, so the test
     * accepts 90–99 % (over three standard deviations; the percentile bootstrap runs a little narrow at this size).
     */
    @Test
    void theTokenAccuracyIntervalCoversTheTrueDeltaAboutNinetyFivePercentOfTheTime() {
        SplittableRandom random = new SplittableRandom(2026);
        int sets = 200;
        int n = 150;
        int covered = 0;
        for (int s = 0; s < sets; s++) {
            long[] t = new long[n];
            long[] ca = new long[n];
            long[] cb = new long[n];
            for (int i = 0; i < n; i++) {
                t[i] = 4;
                for (int k = 0; k < 4; k++) {
                    ca[i] += random.nextDouble() < 0.55 ? 1 : 0;
                    cb[i] += random.nextDouble() < 0.50 ? 1 : 0;
                }
            }
            PairedBootstrap.Interval i = PairedBootstrap.causalDeltas(outcomes(new double[n], t, ca, new boolean[0]),
                    outcomes(new double[n], t, cb, new boolean[0]), 1000, s).get("token_accuracy");
            if (i.low() <= 0.05 && 0.05 <= i.high()) {
                covered++;
            }
        }
        double coverage = covered / (double) sets;
        assertTrue(coverage >= 0.90 && coverage <= 0.99, "coverage " + coverage);
    }

    @Test
    void outcomesOfDifferentDataGetNoInterval() {
        CausalOutcomes a = outcomes(new double[3], new long[] {1, 1, 1}, new long[3], new boolean[] {true});
        CausalOutcomes b = outcomes(new double[4], new long[] {1, 1, 1, 1}, new long[4], new boolean[] {true, false});
        assertTrue(PairedBootstrap.causalDeltas(a, b, 100, 1).isEmpty());
    }

    @Test
    void storedOutcomesReadBackFromTheirJsonShape() {
        CausalOutcomes o = outcomes(new double[] {1.5, 2.25}, new long[] {3, 4}, new long[] {1, 2}, new boolean[] {true});
        Map<String, Object> json = Map.of("nll", List.of(1.5, 2.25), "targets", List.of(3, 4), "token_correct", List.of(1, 2),
                "exact_match", List.of(true));
        CausalOutcomes back = CausalOutcomes.fromMap(json);
        assertNotNull(back);
        assertEquals(o.nll()[1], back.nll()[1], 0.0);
        assertEquals(4L, back.targets()[1]);
        assertTrue(back.exactMatch()[0]);
        assertNull(CausalOutcomes.fromMap(null));
    }
}
