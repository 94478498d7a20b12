package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HostDropout;
import io.peftfoundry.engine.model.KvCache;
import io.peftfoundry.engine.model.Ops;

/**
 * GPT-2 causal self-attention: fused {@code c_attn} (H → 3H, split into q, k, v) and {@code c_proj}.
 * HF stores both as Conv1D, weight (in, out); here they are {@link HfLinear}s with the weight
 * transposed to (out, in) at load and back at save, so that LoRA/IA3 wrap them like any linear.
 *
 * <p>Input: {@code NDList(h (B,T,H), maskAdd (B,1,T,P+T), pastKey, pastValue)}, past (B, heads, P, d) or
 * null. Output: {@code NDList(out (B,T,H), key (B,heads,P+T,d), value (B,heads,P+T,d))} — the new cache.
 */
public class Gpt2Attention extends HfModule {

    private final Gpt2Config config;

    public Gpt2Attention(Gpt2Config c) {
        this.config = c;
        module("c_attn", new HfLinear(c.nEmbd(), 3 * c.nEmbd(), true));
        module("c_proj", new HfLinear(c.nEmbd(), c.nEmbd(), true));
    }

    private NDArray heads(NDArray x) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        try (NDArray split = x.reshape(b, t, config.nHead(), config.headSize())) {
            return split.transpose(0, 2, 1, 3);
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray maskAdd = inputs.get(1);
        // Intermediates are closed as soon as they are used: autograd keeps what backward needs by its own reference,
        // and DJL would otherwise hold every (B, heads, T, P+T) score array of every layer until the step's manager
        // closes. The 1/sqrt(d) scale goes on the queries (B, heads, T, d), not on the larger scores. k and v are
        // returned (the new cache).
        NDArray q;
        NDArray k;
        NDArray v;
        try (NDArray qkv = module("c_attn").forward(ps, new NDList(h), training).head()) {
            NDList parts = qkv.split(3, 2);
            q = heads(parts.get(0));
            k = heads(parts.get(1));
            v = heads(parts.get(2));
            parts.close();
        }
        if (inputs.size() > 3 && inputs.get(2) != null) {
            // appended to the cache, or written into a preallocated one (KvCache); the mask spans all keys
            long keys = maskAdd.getShape().get(3);
            k = KvCache.extend(inputs.get(2), k, keys);
            v = KvCache.extend(inputs.get(3), v, keys);
        }
        NDArray probs;
        try (q; NDArray qs = Ops.scale(q, 1.0 / Math.sqrt(config.headSize())); NDArray kt = k.transpose(0, 1, 3, 2);
                NDArray raw = qs.matMul(kt); NDArray scores = raw.add(maskAdd)) {
            probs = scores.softmax(-1);
        }
        if (training && config.attnPdrop() > 0) {
            NDArray dropped = HostDropout.apply(probs, config.attnPdrop());
            probs.close();
            probs = dropped;
        }
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        NDArray out;
        try (NDArray used = probs; NDArray mixed = used.matMul(v); NDArray moved = mixed.transpose(0, 2, 1, 3);
                NDArray ctx = moved.reshape(b, t, config.nEmbd())) {
            out = module("c_proj").forward(ps, new NDList(ctx), training).head();
        }
        if (training && config.residPdrop() > 0) {
            NDArray dropped = HostDropout.apply(out, config.residPdrop());
            out.close();
            out = dropped;
        }
        return new NDList(out, k, v);
    }
}
