package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.KvCache;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.model.TorchOps;

/**
 * LLaMA self-attention with grouped-query attention: {@code q_proj} (H → heads·d), {@code k_proj} and
 * {@code v_proj} (H → kv_heads·d), rotary embedding on q and k, each key/value head shared by
 * {@code heads / kv_heads} consecutive query heads (transformers' repeat_kv), {@code o_proj} (heads·d → H).
 *
 * <p>Input: {@code NDList(h (B,T,H), maskAdd (B,1,T,P+T), cos, sin (1,1,T,d), pastKey, pastValue)}, past
 * (B, kv_heads, P, d) or null (keys cached after the rotation, as transformers caches them).
 * Output: {@code NDList(out (B,T,H), key (B,kv_heads,P+T,d), value (B,kv_heads,P+T,d))}.
 *
 * <p>The attention itself is PyTorch's {@code scaled_dot_product_attention} ({@link TorchOps#sdpaMasked}, with the
 * additive mask, so padding, a prefix/past and a sliding window are honoured exactly), as transformers' default
 * {@code attn_implementation="sdpa"}: its fused kernel neither keeps the (B, heads, T, P+T) score and probability
 * arrays for backward nor materialises them, where the eager path ({@link #useSdpa useSdpa(false)}) keeps both. Keys
 * and values are repeated to the query heads first, as transformers does on the CPU: the CPU's fused kernel takes
 * equal head counts only. LLaMA-family attention has no dropout here, so the two paths compute the same function.
 */
public class LlamaAttention extends HfModule {

    private final LlamaConfig config;
    private boolean sdpa = true;

    public LlamaAttention(LlamaConfig c) {
        this.config = c;
        int d = c.headDim();
        module("q_proj", new HfLinear(c.hiddenSize(), c.numAttentionHeads() * d, c.projectionBias()));
        module("k_proj", new HfLinear(c.hiddenSize(), c.numKeyValueHeads() * d, c.projectionBias()));
        module("v_proj", new HfLinear(c.hiddenSize(), c.numKeyValueHeads() * d, c.projectionBias()));
        module("o_proj", new HfLinear(c.numAttentionHeads() * d, c.hiddenSize(), c.attentionBias()));
    }

    /** Chooses fused scaled-dot-product attention (true, the default) or the eager softmax(q kᵀ/√d + mask) v. */
    public void useSdpa(boolean on) {
        this.sdpa = on;
    }

    private NDArray heads(NDArray x, int n) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        return x.reshape(b, t, n, config.headDim()).transpose(0, 2, 1, 3);
    }

    /** (B, kv, S, d) → (B, kv·g, S, d): kv head j serves query heads j·g … j·g+g-1. */
    private NDArray repeatKv(NDArray x) {
        int g = config.groupSize();
        if (g == 1) {
            return x;
        }
        long b = x.getShape().get(0);
        long kv = x.getShape().get(1);
        long s = x.getShape().get(2);
        long d = x.getShape().get(3);
        return x.expandDims(2).broadcast(b, kv, g, s, d).reshape(b, kv * g, s, d);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray maskAdd = inputs.get(1);
        NDArray cos = inputs.get(2);
        NDArray sin = inputs.get(3);
        // intermediates are closed once used: autograd keeps what backward needs by its own reference, and DJL would
        // otherwise hold every (heads, T, T) score array of every layer until the step's manager closes
        NDArray qRaw = heads(module("q_proj").forward(ps, new NDList(h), training).head(), config.numAttentionHeads());
        NDArray k = heads(module("k_proj").forward(ps, new NDList(h), training).head(), config.numKeyValueHeads());
        NDArray v = heads(module("v_proj").forward(ps, new NDList(h), training).head(), config.numKeyValueHeads());
        NDArray q = LlamaRotary.apply(qRaw, cos, sin);
        qRaw.close();
        NDArray kRaw = k;
        k = LlamaRotary.apply(kRaw, cos, sin);
        kRaw.close();
        if (inputs.size() > 5 && inputs.get(4) != null) {
            // appended to the cache, or written into a preallocated one (KvCache); the mask spans all keys
            long keys = maskAdd.getShape().get(3);
            k = KvCache.extend(inputs.get(4), k, keys);
            v = KvCache.extend(inputs.get(5), v, keys);
        }
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        NDArray ctx;
        if (sdpa) {
            NDArray keys = repeatKv(k);
            NDArray values = repeatKv(v);
            try (NDArray mixed = TorchOps.sdpaMasked(q, keys, values, maskAdd, 1.0 / Math.sqrt(config.headDim()));
                    NDArray moved = mixed.transpose(0, 2, 1, 3)) {
                ctx = moved.reshape(b, t, (long) config.numAttentionHeads() * config.headDim());
            }
            if (keys != k) { // repeated copies, used up (k and v themselves are returned as the cache)
                keys.close();
                values.close();
            }
            q.close();
            NDArray out = module("o_proj").forward(ps, new NDList(ctx), training).head();
            ctx.close();
            return new NDList(out, k, v);
        }
        NDArray probs;
        try (NDArray keys = repeatKv(k); NDArray kT = keys.transpose(0, 1, 3, 2); NDArray raw = q.matMul(kT);
                NDArray scaled = Ops.scale(raw, 1.0 / Math.sqrt(config.headDim())); NDArray scores = scaled.add(maskAdd)) {
            probs = scores.softmax(-1);
        }
        q.close();
        try (NDArray values = repeatKv(v); NDArray mixed = probs.matMul(values); NDArray moved = mixed.transpose(0, 2, 1, 3)) {
            ctx = moved.reshape(b, t, (long) config.numAttentionHeads() * config.headDim());
        }
        probs.close();
        NDArray out = module("o_proj").forward(ps, new NDList(ctx), training).head();
        ctx.close();
        return new NDList(out, k, v);
    }
}
