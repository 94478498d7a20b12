package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** The additive attention mask of a decoder: causal, plus padding, over a key/value cache of P earlier positions. */
public final class CausalMask {

    /** Added to attention scores of masked keys: exp underflows to exactly 0, as with transformers' finfo.min. */
    public static final float MASKED = -1e9f;

    private CausalMask() {}

    /**
     * (B,1,T,P+T): 0 where query i (at position P+i) may see key j (j ≤ P+i and {@code mask[b, j] != 0}),
     * else {@link #MASKED}. {@code mask} is (B, P+T) or null (every key is real).
     */
    public static NDArray additive(NDManager m, NDArray mask, long batch, int t, int past) {
        return additive(m, mask, batch, t, past, 0);
    }

    /**
     * As {@link #additive(NDManager, NDArray, long, int, int)} with a sliding window (Mistral): query i also sees
     * only the {@code window} most recent positions, itself included ({@code (P+i) - j < window}); 0 = no window.
     */
    public static NDArray additive(NDManager m, NDArray mask, long batch, int t, int past, int window) {
        int keys = past + t;
        long[] keep = mask == null ? null : mask.toLongArray();
        if (keep != null && keep.length != batch * keys) {
            throw new IllegalArgumentException("attention mask has shape " + mask.getShape() + ", expected ("
                    + batch + ", " + keys + ")");
        }
        float[] v = new float[(int) (batch * t * keys)];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < keys; j++) {
                    boolean visible = j <= past + i && (window <= 0 || past + i - j < window)
                            && (keep == null || keep[b * keys + j] != 0);
                    v[(b * t + i) * keys + j] = visible ? 0f : MASKED;
                }
            }
        }
        return m.create(v, new Shape(batch, 1, t, keys)).duplicate(); // owned memory, see HfModule.assign
    }
}
