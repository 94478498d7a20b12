package io.peftfoundry.eval.service;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The comparison of an adapter with its full-fine-tune baseline, from two evaluations' metrics and the two jobs'
 * reported numbers. Pure arithmetic, no I/O.
 * <ul>
 *   <li>{@code delta.m = adapter.m − baseline.m} for every metric both have;</li>
 *   <li>{@code retention_percent.m = 100 · adapter.m / baseline.m} for metrics where higher is better
 *       (accuracy, macro-F1, token accuracy, exact match); lower-is-better metrics (loss, perplexity) get a delta only;</li>
 *   <li>ratios adapter / baseline of trainable parameters, stored bytes, training seconds, tokens per second and
 *       peak memory, each only when both sides reported a positive number;</li>
 *   <li>{@code reference}: the trivial reference the adapter's evaluation recorded (majority class and label prior
 *       for classification, see {@link TrivialReference}; the base model without adapter for causal LM), and
 *       {@code degenerate = true} when neither the adapter nor the baseline beats it (accuracy above the better
 *       trivial accuracy; perplexity below the base model's). A degenerate comparison reports no retention: 100 %
 *       of a baseline that learned nothing is not a success;</li>
 *   <li>{@code accuracy_delta_ci95}: a paired bootstrap 95 % interval of the accuracy delta over the same
 *       validation examples ({@link PairedBootstrap}), when both evaluations kept their per-example outcomes.</li>
 * </ul>
 */
public final class Comparisons {

    /** Metrics where a larger value is better; retention is defined for these only. */
    public static final Set<String> HIGHER_IS_BETTER = Set.of("accuracy", "macro_f1", "token_accuracy", "exact_match");

    /** Metrics where a smaller value is better. */
    public static final Set<String> LOWER_IS_BETTER = Set.of("loss", "perplexity");

    /** Job numbers compared as adapter / baseline, and the name each ratio is published under. */
    private static final Map<String, String> RATIOS = Map.of(
            "trainable_parameters", "trainable_parameter_ratio",
            "adapter_bytes", "bytes_ratio",
            "train_seconds", "train_seconds_ratio",
            "tokens_per_second", "tokens_per_second_ratio",
            "peak_rss_bytes", "peak_memory_ratio");

    private Comparisons() {}

    /**
     * @param adapterMetrics  evaluation metrics of the adapter (scalars are used, nested values ignored)
     * @param adapterJob      the adapter job's numbers (trainable_parameters, adapter_bytes, train_seconds, …)
     * @param baselineMetrics evaluation metrics of the baseline
     * @param baselineJob     the baseline job's numbers
     */
    public static Map<String, Object> compare(Map<String, ?> adapterMetrics, Map<String, ?> adapterJob,
                                              Map<String, ?> baselineMetrics, Map<String, ?> baselineJob) {
        return compare(adapterMetrics, adapterJob, null, baselineMetrics, baselineJob, null);
    }

    /**
     * As {@link #compare(Map, Map, Map, Map)}, plus the paired interval when both per-example outcome lists are given
     * (same validation examples, same order).
     */
    public static Map<String, Object> compare(Map<String, ?> adapterMetrics, Map<String, ?> adapterJob,
                                              boolean[] adapterCorrect, Map<String, ?> baselineMetrics,
                                              Map<String, ?> baselineJob, boolean[] baselineCorrect) {
        Map<String, Double> delta = new LinkedHashMap<>();
        Map<String, Double> retention = new LinkedHashMap<>();
        Map<String, Double> baseline = new LinkedHashMap<>();
        for (String m : sortedMetricNames(adapterMetrics)) {
            Double a = number(adapterMetrics.get(m));
            Double b = number(baselineMetrics.get(m));
            if (a == null || b == null || !(HIGHER_IS_BETTER.contains(m) || LOWER_IS_BETTER.contains(m))) {
                continue;
            }
            baseline.put(m, b);
            delta.put(m, a - b);
            if (HIGHER_IS_BETTER.contains(m) && b > 0) {
                retention.put(m, 100.0 * a / b);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("baseline", baseline);
        out.put("delta", delta);
        Object reference = adapterMetrics.get("reference");
        if (reference instanceof Map<?, ?> ref) {
            out.put("reference", ref);
            String reason = degenerateReason(ref, adapterMetrics, baselineMetrics);
            out.put("degenerate", reason != null);
            if (reason != null) {
                out.put("degenerate_reason", reason);
                retention.clear();
            }
        }
        out.put("retention_percent", retention);
        if (adapterCorrect != null && baselineCorrect != null && adapterCorrect.length == baselineCorrect.length
                && adapterCorrect.length > 0) {
            PairedBootstrap.Interval ci = PairedBootstrap.accuracyDelta(adapterCorrect, baselineCorrect,
                    PairedBootstrap.DEFAULT_RESAMPLES, BOOTSTRAP_SEED);
            Map<String, Object> interval = new LinkedHashMap<>();
            interval.put("low", ci.low());
            interval.put("high", ci.high());
            interval.put("resamples", ci.resamples());
            interval.put("examples", adapterCorrect.length);
            out.put("accuracy_delta_ci95", interval);
        }
        Map<String, Double> ratios = new LinkedHashMap<>();
        RATIOS.keySet().stream().sorted().forEach(k -> {
            Double a = number(adapterJob.get(k));
            Double b = number(baselineJob.get(k));
            if (a != null && b != null && a > 0 && b > 0) {
                ratios.put(RATIOS.get(k), a / b);
            }
        });
        out.put("ratios", ratios);
        Double trainable = number(adapterJob.get("trainable_parameters"));
        Double total = number(adapterJob.get("total_parameters"));
        if (trainable != null && total != null && total > 0) {
            out.put("trainable_percent", 100.0 * trainable / total);
        }
        return out;
    }

    private static final long BOOTSTRAP_SEED = 20261205L;

    /**
     * Why the comparison says nothing, or null when the adapter or the baseline beats the trivial reference.
     * Classification: accuracy strictly above the better of majority-class and label-prior accuracy. Causal LM:
     * perplexity strictly below the base model's.
     */
    static String degenerateReason(Map<?, ?> ref, Map<String, ?> adapter, Map<String, ?> baseline) {
        Double majority = number(ref.get("majority_accuracy"));
        Double prior = number(ref.get("label_prior_accuracy"));
        if (majority != null && prior != null) {
            double trivial = Math.max(majority, prior);
            Double a = number(adapter.get("accuracy"));
            Double b = number(baseline.get("accuracy"));
            if ((a != null && a > trivial) || (b != null && b > trivial)) {
                return null;
            }
            return String.format(java.util.Locale.ROOT, "neither the adapter (accuracy %s) nor the baseline (accuracy %s)"
                    + " beats always predicting '%s' (accuracy %.4f): both learned nothing usable; train longer,"
                    + " raise the learning rate or check the labels", fmt(a), fmt(b), ref.get("majority_label"), trivial);
        }
        Double base = number(ref.get("base_perplexity"));
        if (base != null) {
            Double a = number(adapter.get("perplexity"));
            Double b = number(baseline.get("perplexity"));
            if ((a != null && a < base) || (b != null && b < base)) {
                return null;
            }
            return String.format(java.util.Locale.ROOT, "neither the adapter (perplexity %s) nor the baseline"
                    + " (perplexity %s) improves on the base model without adapter (perplexity %.4f)", fmt(a), fmt(b), base);
        }
        return null;
    }

    private static String fmt(Double d) {
        return d == null ? "unknown" : String.format(java.util.Locale.ROOT, "%.4f", d);
    }

    /** The metric a leaderboard ranks by, and whether larger is better. */
    public record Primary(String metric, boolean higherIsBetter) {}

    public static Primary primaryMetric(String task) {
        return "classification".equals(task) ? new Primary("accuracy", true) : new Primary("perplexity", false);
    }

    private static Iterable<String> sortedMetricNames(Map<String, ?> metrics) {
        return metrics.keySet().stream().sorted().toList();
    }

    static Double number(Object v) {
        if (v instanceof Number n) {
            double d = n.doubleValue();
            return Double.isFinite(d) ? d : null;
        }
        return null;
    }
}
