package io.peftfoundry.eval.service;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trivial references, the degenerate flag and the paired bootstrap interval. */
class ReferenceAndIntervalTest {

    private static final double EPS = 1e-12;

    private static List<String> labels(String label, int n, List<String> into) {
        into.addAll(Collections.nCopies(n, label));
        return into;
    }

    /**
     * Training labels: pos 6, neg 4 (p = 0.6, 0.4); validation: pos 5, neg 3 (q = 0.625, 0.375).
     * Majority = pos: accuracy 0.625; its F1 = 2·0.625/1.625 = 10/13, neg's 0, macro-F1 = 5/13.
     * Label prior: accuracy 0.6·0.625 + 0.4·0.375 = 0.525; F1 pos 2·0.6·0.625/1.225 = 0.75/1.225,
     * neg 2·0.4·0.375/0.775 = 0.3/0.775, macro-F1 their mean.
     */
    @Test
    void majorityAndLabelPriorReferencesByHand() {
        List<String> train = labels("neg", 4, labels("pos", 6, new ArrayList<>()));
        List<String> valid = labels("neg", 3, labels("pos", 5, new ArrayList<>()));
        TrivialReference r = TrivialReference.of(train, valid);
        assertEquals("pos", r.majorityLabel());
        assertEquals(0.625, r.majorityAccuracy(), EPS);
        assertEquals(5.0 / 13, r.majorityMacroF1(), EPS);
        assertEquals(0.525, r.labelPriorAccuracy(), EPS);
        assertEquals((0.75 / 1.225 + 0.3 / 0.775) / 2, r.labelPriorMacroF1(), EPS);
        assertEquals(0.625, r.best("accuracy"), EPS);
    }

    /** A validation label never seen in training counts as a class the majority predictor scores 0 on. */
    @Test
    void labelOnlyInValidationCountsAsAClass() {
        TrivialReference r = TrivialReference.of(List.of("a", "a", "b"), List.of("a", "c"));
        assertEquals(0.5, r.majorityAccuracy(), EPS);
        // F1(a) = 2·0.5/1.5 = 2/3 over K = 3 classes (a, b, c)
        assertEquals(2.0 / 9, r.majorityMacroF1(), EPS);
    }

    /** The case: adapter and baseline both predict the majority class (accuracy 0.62 = majority share). */
    @Test
    void bothAtTheMajorityShareIsDegenerateAndReportsNoRetention() {
        Map<String, Object> ref = TrivialReference.of(labels("neg", 38, labels("pos", 62, new ArrayList<>())),
                labels("neg", 38, labels("pos", 62, new ArrayList<>()))).toMap();
        Map<String, Object> adapter = Map.of("accuracy", 0.62, "macro_f1", 0.38, "reference", ref);
        Map<String, Object> baseline = Map.of("accuracy", 0.62, "macro_f1", 0.38);
        Map<String, Object> c = Comparisons.compare(adapter, Map.of(), baseline, Map.of());
        assertEquals(true, c.get("degenerate"));
        assertTrue(((Map<?, ?>) c.get("retention_percent")).isEmpty(), "no retention for a degenerate comparison");
        assertTrue(c.get("degenerate_reason").toString().contains("'pos'"));
    }

    /** One side above the majority share is enough: retention is reported again. */
    @Test
    void baselineAboveTheMajorityShareIsNotDegenerate() {
        Map<String, Object> ref = TrivialReference.of(List.of("a", "a", "b"), List.of("a", "a", "b", "b")).toMap();
        Map<String, Object> adapter = Map.of("accuracy", 0.5, "reference", ref);
        Map<String, Object> baseline = Map.of("accuracy", 0.75);
        Map<String, Object> c = Comparisons.compare(adapter, Map.of(), baseline, Map.of());
        assertEquals(false, c.get("degenerate"));
        assertEquals(100 * 0.5 / 0.75, (Double) ((Map<?, ?>) c.get("retention_percent")).get("accuracy"), EPS);
    }

    /** Causal LM: the reference is the base model's perplexity; neither side below it is degenerate. */
    @Test
    void causalComparisonIsDegenerateWhenNeitherSideBeatsTheBaseModel() {
        Map<String, Object> ref = Map.of("base_perplexity", 40.0, "base_loss", Math.log(40));
        assertNotNull(Comparisons.degenerateReason(ref, Map.of("perplexity", 41.0), Map.of("perplexity", 40.0)));
        assertNull(Comparisons.degenerateReason(ref, Map.of("perplexity", 41.0), Map.of("perplexity", 30.0)));
    }

    /** Identical outcomes: every resample's delta is 0, so is the interval. */
    @Test
    void identicalOutcomesGiveAZeroWidthInterval() {
        boolean[] a = {true, false, true, true, false};
        PairedBootstrap.Interval ci = PairedBootstrap.accuracyDelta(a, a.clone(), 500, 1);
        assertEquals(0, ci.delta(), EPS);
        assertEquals(0, ci.low(), EPS);
        assertEquals(0, ci.high(), EPS);
    }

    /**
     * Coverage by simulation: 300 validation sets of 200 examples where the adapter is right with probability 0.70
     * and the baseline with 0.75 (true delta −0.05), their errors correlated through a shared difficulty. A 95 %
     * interval should cover −0.05 in about 95 % of the sets; the binomial standard deviation of that share over 300
     * sets is √(0.95·0.05/300) ≈ 0.0126, so 0.90–0.99 is a ±4σ band that a correct interval leaves only by chance
     * of about 1 in 10⁴ (the percentile bootstrap runs slightly narrow at n = 200, hence the lower side's room).
     */
    @Test
    void intervalCoversTheTrueDeltaInAbout95PercentOfSimulatedValidationSets() {
        SplittableRandom random = new SplittableRandom(7);
        double trueDelta = -0.05;
        int sets = 300;
        int covered = 0;
        for (int s = 0; s < sets; s++) {
            int n = 200;
            boolean[] a = new boolean[n];
            boolean[] b = new boolean[n];
            for (int i = 0; i < n; i++) {
                // shared difficulty: an easy example (60 %) both get right with higher probability
                boolean easy = random.nextDouble() < 0.6;
                double pa = easy ? 0.90 : 0.40;   // 0.6·0.90 + 0.4·0.40 = 0.70
                double pb = easy ? 0.95 : 0.45;   // 0.6·0.95 + 0.4·0.45 = 0.75
                double u = random.nextDouble();
                a[i] = u < pa;                      // common uniform: strongly paired outcomes
                b[i] = u < pb;
            }
            PairedBootstrap.Interval ci = PairedBootstrap.accuracyDelta(a, b, 1000, s);
            if (ci.low() <= trueDelta && trueDelta <= ci.high()) {
                covered++;
            }
        }
        double coverage = (double) covered / sets;
        assertTrue(coverage >= 0.90 && coverage <= 0.99, "coverage " + coverage);
    }

    /** The interval rides along the comparison when both evaluations kept their outcomes. */
    @Test
    void comparisonCarriesTheIntervalWhenBothOutcomeListsArePresent() {
        boolean[] a = {true, true, true, false};
        boolean[] b = {true, false, false, false};
        Map<String, Object> c = Comparisons.compare(Map.of("accuracy", 0.75), Map.of(), a,
                Map.of("accuracy", 0.25), Map.of(), b);
        Map<?, ?> ci = (Map<?, ?>) c.get("accuracy_delta_ci95");
        assertNotNull(ci);
        double low = (Double) ci.get("low");
        double high = (Double) ci.get("high");
        assertTrue(low <= 0.5 && 0.5 <= high, "the observed delta 0.5 lies in [" + low + ", " + high + "]");
        assertFalse(Comparisons.compare(Map.of("accuracy", 0.75), Map.of(), a, Map.of("accuracy", 0.25), Map.of(),
                new boolean[3]).containsKey("accuracy_delta_ci95"), "no interval over unequal example lists");
    }
}
