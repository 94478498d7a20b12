package io.peftfoundry.engine.model;

import ai.djl.util.PairList;

/**
 * Per-row positions for a decoder's forward call, passed as the {@link #KEY} parameter: a {@code long[]} of B·T
 * positions of the real tokens, row after row. Batched decoding needs them: rows of different lengths share one
 * key/value cache (shorter rows' slots masked), so a row's next position is its own length, not the cache length.
 * Without them a decoder numbers positions P, P+1, … after a cache of P. A prompt encoder's S soft tokens, in
 * front of the real ones, take positions 0 … S-1 (so the caller's real positions start at S, as without them).
 */
public final class PositionIds {

    public static final String KEY = "position_ids";

    private PositionIds() {}

    /** Parameters of a forward call carrying {@code positions} (B·T, row-major). */
    public static PairList<String, Object> params(long[] positions) {
        PairList<String, Object> p = new PairList<>();
        p.add(KEY, positions);
        return p;
    }

    /**
     * The positions of all {@code t} inputs per row (soft tokens first), or null when the call gave none.
     *
     * @param t sequence length inside the model, {@code promptLength} soft tokens included
     */
    public static long[] of(PairList<String, Object> params, long batch, int t, long promptLength) {
        Object v = params == null ? null : params.get(KEY);
        if (v == null) {
            return null;
        }
        long[] given = (long[]) v;
        long real = t - promptLength;
        if (given.length != batch * real) {
            throw new IllegalArgumentException("position_ids has " + given.length + " entries, expected batch " + batch
                    + " x " + real + " tokens");
        }
        if (promptLength == 0) {
            return given;
        }
        long[] all = new long[(int) (batch * t)];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < promptLength; i++) {
                all[(int) (b * t + i)] = i;
            }
            System.arraycopy(given, (int) (b * real), all, (int) (b * t + promptLength), (int) real);
        }
        return all;
    }

    public static long max(long[] positions) {
        long m = -1;
        for (long p : positions) {
            m = Math.max(m, p);
        }
        return m;
    }
}
