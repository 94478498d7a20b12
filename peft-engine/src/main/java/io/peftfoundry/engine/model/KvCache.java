package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A decoder's key/value cache entries, each (B, heads, slots, d), come in two forms. Grown: the entry holds exactly
 * the P past positions and a call returns {@code concat(past, new)} — a fresh (B, heads, P+T, d) copy per layer and
 * call. Preallocated (continuous batching, {@code BatchDecoder}): the entry is a buffer with room for more slots than
 * the call's P + T keys; the call writes its T new keys and values in place at slots P … P+T−1 and attends over the
 * first P+T slots (a view of the buffer), so a decoding step copies nothing already cached. The attention mask
 * (B, P+T) tells the two apart: an entry with at least P+T slots is a buffer, and P is the mask's width less T (a
 * preallocated cache needs the mask).
 */
public final class KvCache {

    private KvCache() {}

    /** P, the past positions of a call with cache entry {@code first} (null: none), {@code mask} (B, P+T) or null. */
    public static int past(NDArray first, NDArray mask, int t) {
        if (first == null) {
            return 0;
        }
        long slots = first.getShape().get(2);
        if (mask != null && slots >= mask.getShape().get(1)) {
            return (int) (mask.getShape().get(1) - t);
        }
        return (int) slots;
    }

    /**
     * The keys (or values) to attend over, (B, heads, keys, d): {@code fresh} (B, heads, T, d) after {@code past}
     * (null: none). A preallocated {@code past} (at least {@code keys} slots) gets {@code fresh} written in place and
     * the result is a view of its first {@code keys} slots; otherwise the result is a new concatenation. {@code fresh}
     * is closed when it was copied.
     */
    public static NDArray extend(NDArray past, NDArray fresh, long keys) {
        if (past == null) {
            return fresh;
        }
        long t = fresh.getShape().get(2);
        NDArray all;
        if (past.getShape().get(2) >= keys) {
            Shape s = past.getShape();
            long[] min = {0, 0, keys - t, 0};
            long[] max = {s.get(0), s.get(1), keys, s.get(3)};
            long[] step = {1, 1, 1, 1};
            if (past instanceof PtNDArray p && fresh instanceof PtNDArray f) {
                // PyTorch's basic slicing, without DJL's NDIndex (parsed and passed dimension by dimension over JNI,
                // its assignment was dearer than the concatenation it replaces); the view belongs to the call's
                // manager (fresh's), not to the buffer's long-lived one, so it is freed with the call
                JniUtils.indexSet(p, f, min, max, step);
                min[2] = 0;
                all = JniUtils.index(p, min, max, step, (PtNDManager) f.getManager());
            } else {
                past.set(new NDIndex(":, :, {}:{}, :", keys - t, keys), fresh);
                all = past.get(new NDIndex(":, :, :{}, :", keys));
                all.attach(fresh.getManager());
            }
        } else {
            all = past.concat(fresh, 2);
        }
        fresh.close();
        return all;
    }
}
