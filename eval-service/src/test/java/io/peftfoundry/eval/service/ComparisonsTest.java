package io.peftfoundry.eval.service;

import io.peftfoundry.engine.training.EvalResult;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The metric and comparison arithmetic on numbers small enough to work out by hand. */
class ComparisonsTest {

    private static final double EPS = 1e-12;

    /**
     * Six examples, classes a, b, c; truth a a a b b c, predicted a a b b c c.
     * Confusion (rows truth, columns predicted): a: [2 1 0], b: [0 1 1], c: [0 0 1].
     * Accuracy = (2 + 1 + 1) / 6 = 2/3.
     * Precision = tp / column sum: a 2/2 = 1, b 1/2, c 1/2. Recall = tp / row sum: a 2/3, b 1/2, c 1/1.
     * F1 = 2pr/(p+r): a 2·1·(2/3)/(5/3) = 4/5, b 1/2, c 2·(1/2)·1/(3/2) = 2/3.
     * Macro-F1 = (4/5 + 1/2 + 2/3) / 3 = (24 + 15 + 20) / 90 = 59/90. Loss: summed 3.0 over 6 examples = 0.5.
     */
    @Test
    void classificationMetricsByHand() {
        int[] truth = {0, 0, 0, 1, 1, 2};
        int[] predicted = {0, 0, 1, 1, 2, 2};
        EvalResult r = EvalResult.of(List.of("a", "b", "c"), truth, predicted, 3.0);
        assertEquals(2.0 / 3, r.accuracy(), EPS);
        assertEquals(59.0 / 90, r.macroF1(), EPS);
        assertEquals(0.5, r.loss(), EPS);
        assertArrayEquals(new double[] {1, 0.5, 0.5}, r.precision(), EPS);
        assertArrayEquals(new double[] {2.0 / 3, 0.5, 1}, r.recall(), EPS);
        assertArrayEquals(new long[] {2, 1, 0}, r.confusion()[0]);
        assertArrayEquals(new long[] {0, 1, 1}, r.confusion()[1]);
        assertArrayEquals(new long[] {0, 0, 1}, r.confusion()[2]);
    }

    /**
     * Adapter: accuracy 0.8, macro-F1 0.75, loss 0.5; baseline: 0.9, 0.8, 0.4.
     * Deltas: accuracy −0.1, macro-F1 −0.05, loss +0.1. Retention: 100·0.8/0.9 = 88.8…%, 100·0.75/0.8 = 93.75%;
     * none for loss (lower is better). Trainable 100,000 of 20,100,000 (0.4975…%) vs the baseline's 20,000,000:
     * ratio 0.005; bytes 400,000 vs 80,000,000: 0.005; 60 s vs 240 s: 0.25; 4,000 vs 1,000 tokens/s: 4;
     * peak memory 1.4 GB vs 1.8 GB: 7/9.
     */
    @Test
    void comparisonByHand() {
        Map<String, Object> adapter = Map.of("accuracy", 0.8, "macro_f1", 0.75, "loss", 0.5, "examples", 100);
        Map<String, Object> baseline = Map.of("accuracy", 0.9, "macro_f1", 0.8, "loss", 0.4, "examples", 100);
        Map<String, Object> adapterJob = Map.of("trainable_parameters", 100_000, "total_parameters", 20_100_000,
                "adapter_bytes", 400_000, "train_seconds", 60.0, "tokens_per_second", 4000.0,
                "peak_rss_bytes", 1_400_000_000L);
        Map<String, Object> baselineJob = Map.of("trainable_parameters", 20_000_000, "total_parameters", 20_000_000,
                "adapter_bytes", 80_000_000, "train_seconds", 240.0, "tokens_per_second", 1000.0,
                "peak_rss_bytes", 1_800_000_000L);

        Map<String, Object> c = Comparisons.compare(adapter, adapterJob, baseline, baselineJob);

        Map<?, ?> delta = (Map<?, ?>) c.get("delta");
        assertEquals(-0.1, (Double) delta.get("accuracy"), EPS);
        assertEquals(-0.05, (Double) delta.get("macro_f1"), EPS);
        assertEquals(0.1, (Double) delta.get("loss"), EPS);
        assertFalse(delta.containsKey("examples"));
        Map<?, ?> retention = (Map<?, ?>) c.get("retention_percent");
        assertEquals(800.0 / 9, (Double) retention.get("accuracy"), EPS);
        assertEquals(93.75, (Double) retention.get("macro_f1"), EPS);
        assertFalse(retention.containsKey("loss"));
        Map<?, ?> ratios = (Map<?, ?>) c.get("ratios");
        assertEquals(0.005, (Double) ratios.get("trainable_parameter_ratio"), EPS);
        assertEquals(0.005, (Double) ratios.get("bytes_ratio"), EPS);
        assertEquals(0.25, (Double) ratios.get("train_seconds_ratio"), EPS);
        assertEquals(4.0, (Double) ratios.get("tokens_per_second_ratio"), EPS);
        assertEquals(7.0 / 9, (Double) ratios.get("peak_memory_ratio"), EPS);
        assertEquals(100.0 * 100_000 / 20_100_000, (Double) c.get("trainable_percent"), EPS);
        assertEquals(0.9, (Double) ((Map<?, ?>) c.get("baseline")).get("accuracy"), EPS);
    }

    /** A number only one side reported gives no ratio rather than a made-up one. */
    @Test
    void missingNumbersGiveNoRatio() {
        Map<String, Object> c = Comparisons.compare(Map.of("accuracy", 0.5), Map.of("train_seconds", 10.0),
                Map.of("accuracy", 0.0), Map.of());
        assertEquals(Map.of(), c.get("ratios"));
        // a baseline scoring 0 has no retention (division by zero), but the delta is still defined
        assertEquals(Map.of(), c.get("retention_percent"));
        assertEquals(0.5, (Double) ((Map<?, ?>) c.get("delta")).get("accuracy"), EPS);
    }

    @Test
    void baselineKeyAndIdempotencyKeyAreStable() {
        String key = BaselineService.key("acme", "minilm-l6-v2", "sha256:aa", "sha256:bb", "classification");
        assertEquals("minilm-l6-v2|sha256:aa|sha256:bb|classification|acme", key);
        assertEquals(BaselineService.idempotencyKey(key), BaselineService.idempotencyKey(key));
        assertEquals("foundry-baseline-".length() + 32, BaselineService.idempotencyKey(key).length());
    }
}
