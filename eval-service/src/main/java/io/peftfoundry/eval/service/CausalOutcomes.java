package io.peftfoundry.eval.service;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-example outcomes of a causal-LM evaluation, kept so that two models scored on the same validation file can be
 * compared pairwise ({@link PairedBootstrap#causalDeltas}): per encoded sequence (one per example for {@code sft}) its
 * summed next-token NLL, its target tokens and the targets the argmax got right; per exact-match case (the first
 * examples of an {@code sft} file) whether the greedy completion matched. Stored as JSON in
 * {@code evaluations.causal_outcomes} (V23).
 */
public record CausalOutcomes(double[] nll, long[] targets, long[] tokenCorrect, boolean[] exactMatch) {

    public CausalOutcomes {
        if (nll.length != targets.length || nll.length != tokenCorrect.length) {
            throw new IllegalArgumentException("per-sequence arrays differ in length: " + nll.length + ", "
                    + targets.length + ", " + tokenCorrect.length);
        }
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nll", nll);
        m.put("targets", targets);
        m.put("token_correct", tokenCorrect);
        m.put("exact_match", exactMatch);
        return m;
    }

    /** From the stored JSON (numbers arrive as Integer/Long/Double lists), or null when there is none. */
    public static CausalOutcomes fromMap(Map<String, Object> m) {
        if (m == null || !(m.get("nll") instanceof List<?> nll) || !(m.get("targets") instanceof List<?> targets)
                || !(m.get("token_correct") instanceof List<?> correct)) {
            return null;
        }
        List<?> exact = m.get("exact_match") instanceof List<?> l ? l : List.of();
        double[] n = new double[nll.size()];
        long[] t = new long[targets.size()];
        long[] c = new long[correct.size()];
        boolean[] e = new boolean[exact.size()];
        for (int i = 0; i < n.length; i++) {
            n[i] = ((Number) nll.get(i)).doubleValue();
        }
        for (int i = 0; i < t.length; i++) {
            t[i] = ((Number) targets.get(i)).longValue();
        }
        for (int i = 0; i < c.length; i++) {
            c[i] = ((Number) correct.get(i)).longValue();
        }
        for (int i = 0; i < e.length; i++) {
            e[i] = Boolean.TRUE.equals(exact.get(i));
        }
        return new CausalOutcomes(n, t, c, e);
    }

    public int sequences() {
        return nll.length;
    }
}
