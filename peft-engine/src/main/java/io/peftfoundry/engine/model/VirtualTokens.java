package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/** What prompt and prefix tuning do to a decoder's inputs (see {@link CausalDecoder}); shared by GPT-2 and LLaMA. */
public final class VirtualTokens {

    private VirtualTokens() {}

    /** Rows of an installed prompt or prefix encoder's {@code embedding.weight} (P), or 0 when none is installed. */
    public static int count(HfModule promptEncoder, HfModule prefixEncoder) {
        int n = 0;
        for (HfModule e : new HfModule[] {promptEncoder, prefixEncoder}) {
            ai.djl.nn.Parameter table = e == null ? null : e.namedParameters().get("embedding.weight");
            if (table != null && table.isInitialized()) {
                n += (int) table.getArray().getShape().get(0);
            }
        }
        return n;
    }

    /** {@code mask} (B, K) with {@code count} ones in front, or null when there is no mask. */
    public static NDArray extendMask(NDArray mask, long count) {
        if (mask == null || count == 0) {
            return mask;
        }
        long batch = mask.getShape().get(0);
        return mask.getManager().ones(new Shape(batch, count), mask.getDataType()).concat(mask, 1);
    }

    /**
     * The prefix encoder's per-layer keys and values as a cache: each (B, S, heads·d) becomes (B, heads, S, d),
     * PEFT's view of {@code prompt_embeddings} (column blocks head-major).
     */
    public static NDList prefixCache(HfModule prefixEncoder, ParameterStore ps, NDArray ids, boolean training,
            int heads, int headDim, DataType dtype) {
        NDList kv = prefixEncoder.forward(ps, new NDList(ids), training);
        NDList out = new NDList(kv.size());
        for (NDArray a : kv) {
            long b = a.getShape().get(0);
            long s = a.getShape().get(1);
            out.add(a.reshape(b, s, heads, headDim).transpose(0, 2, 1, 3).toType(dtype, false));
        }
        return out;
    }
}
