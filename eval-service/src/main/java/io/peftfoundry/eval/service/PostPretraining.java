package io.peftfoundry.eval.service;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code post_pretraining} block of a two-stage adapter's comparison: the adapter trained by continued pretraining
 * then SFT against its SFT-only counterpart (same spec without {@code init_adapter}) on the same validation file.
 * Pure arithmetic, no I/O.
 * <ul>
 *   <li>{@code two_stage}, {@code sft_only}: loss, perplexity, token accuracy, exact match of each;</li>
 *   <li>{@code delta.m = two_stage.m − sft_only.m};</li>
 *   <li>{@code delta_ci95.m {low, high}}: paired bootstrap 95 % interval of the delta over the validation examples
 *       ({@link PairedBootstrap#causalDeltas}, 2,000 resamples, fixed seed), when both evaluations kept per-example
 *       outcomes of the same length;</li>
 *   <li>{@code verdict.m}: {@code two_stage_better} / {@code sft_only_better} when the interval excludes 0 in that
 *       direction (lower is better for loss and perplexity), else {@code no_clear_difference}.</li>
 * </ul>
 */
public final class PostPretraining {

    /** The metrics compared, in the order shown. */
    public static final List<String> METRICS = List.of("loss", "perplexity", "token_accuracy", "exact_match");

    private static final long BOOTSTRAP_SEED = 20261219L;

    private PostPretraining() {}

    /** What a two-stage evaluation shows until its counterpart is in: the earlier stages of its lineage. */
    public static Map<String, Object> waiting(String initAdapter, List<Map<String, Object>> lineage) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", "waiting_for_counterpart");
        out.put("init_adapter", initAdapter);
        List<Map<String, Object>> earlier = new ArrayList<>();
        for (Map<String, Object> s : lineage.subList(0, Math.max(0, lineage.size() - 1))) {
            Map<String, Object> e = new LinkedHashMap<>();
            for (String k : List.of("stage", "task", "method", "training_file", "steps")) {
                if (s.get(k) != null) {
                    e.put(k, s.get(k));
                }
            }
            earlier.add(e);
        }
        out.put("pretraining_stages", earlier);
        return out;
    }

    /**
     * @param waiting       the block stored while waiting (its stages are kept)
     * @param twoStage      metrics of the two-stage adapter's evaluation
     * @param twoStageEach  its per-example outcomes, or null
     * @param sftOnly       metrics of the counterpart's evaluation
     * @param sftOnlyEach   its per-example outcomes, or null
     */
    public static Map<String, Object> compare(Map<String, Object> waiting, String counterpartJobId,
                                              String counterpartEvaluationId, Map<String, ?> twoStage,
                                              CausalOutcomes twoStageEach, Map<String, ?> sftOnly,
                                              CausalOutcomes sftOnlyEach) {
        Map<String, Object> out = new LinkedHashMap<>(waiting == null ? Map.of() : waiting);
        out.put("status", "compared");
        out.put("sft_only_job_id", counterpartJobId);
        out.put("sft_only_evaluation_id", counterpartEvaluationId);
        Map<String, Double> a = new LinkedHashMap<>();
        Map<String, Double> b = new LinkedHashMap<>();
        Map<String, Double> delta = new LinkedHashMap<>();
        for (String m : METRICS) {
            Double x = Comparisons.number(twoStage.get(m));
            Double y = Comparisons.number(sftOnly.get(m));
            if (x != null) {
                a.put(m, x);
            }
            if (y != null) {
                b.put(m, y);
            }
            if (x != null && y != null) {
                delta.put(m, x - y);
            }
        }
        out.put("two_stage", a);
        out.put("sft_only", b);
        out.put("delta", delta);
        Map<String, Object> intervals = new LinkedHashMap<>();
        Map<String, String> verdict = new LinkedHashMap<>();
        if (twoStageEach != null && sftOnlyEach != null) {
            Map<String, PairedBootstrap.Interval> ci = PairedBootstrap.causalDeltas(twoStageEach, sftOnlyEach,
                    PairedBootstrap.DEFAULT_RESAMPLES, BOOTSTRAP_SEED);
            for (String m : METRICS) {
                PairedBootstrap.Interval i = ci.get(m);
                if (i == null || !delta.containsKey(m)) {
                    continue;
                }
                Map<String, Object> v = new LinkedHashMap<>();
                v.put("low", i.low());
                v.put("high", i.high());
                intervals.put(m, v);
                verdict.put(m, verdict(m, i.low(), i.high()));
            }
            out.put("resamples", PairedBootstrap.DEFAULT_RESAMPLES);
            out.put("examples", twoStageEach.sequences());
            out.put("exact_match_examples", twoStageEach.exactMatch().length);
        }
        out.put("delta_ci95", intervals);
        out.put("verdict", verdict);
        return out;
    }

    static String verdict(String metric, double low, double high) {
        boolean lowerIsBetter = Comparisons.LOWER_IS_BETTER.contains(metric);
        if (high < 0) {
            return lowerIsBetter ? "two_stage_better" : "sft_only_better";
        }
        if (low > 0) {
            return lowerIsBetter ? "sft_only_better" : "two_stage_better";
        }
        return "no_clear_difference";
    }
}
