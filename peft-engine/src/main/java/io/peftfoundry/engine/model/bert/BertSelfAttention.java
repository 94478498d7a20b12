package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HostDropout;
import io.peftfoundry.engine.model.Ops;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Multi-head self-attention with separate {@code query}, {@code key}, {@code value} projections.
 * Input: hidden (B, T, H), additive mask (B, 1, 1, P+T), optional prefix key and value (B, P, H)
 * that are concatenated in front of the projected keys/values (prefix tuning). Output (B, T, H).
 */
public class BertSelfAttention extends HfModule {

    private final BertConfig config;

    public BertSelfAttention(BertConfig c) {
        this.config = c;
        module("query", new HfLinear(c.hiddenSize(), c.hiddenSize(), true));
        module("key", new HfLinear(c.hiddenSize(), c.hiddenSize(), true));
        module("value", new HfLinear(c.hiddenSize(), c.hiddenSize(), true));
    }

    private NDArray heads(NDArray x) {
        // (B, T, H) → (B, heads, T, d)
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        try (NDArray split = x.reshape(b, t, config.numAttentionHeads(), config.headSize())) {
            return split.transpose(0, 2, 1, 3);
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray maskAdd = inputs.get(1);
        NDArray q = module("query").forward(ps, new NDList(h), training).head();
        NDArray k = module("key").forward(ps, new NDList(h), training).head();
        NDArray v = module("value").forward(ps, new NDList(h), training).head();
        if (inputs.size() > 3 && inputs.get(2) != null) {
            NDArray kp = inputs.get(2).concat(k, 1);
            NDArray vp = inputs.get(3).concat(v, 1);
            k.close();
            v.close();
            k = kp;
            v = vp;
        }
        // Intermediates are closed as soon as they are used: autograd keeps what backward needs by its own reference,
        // and DJL would otherwise hold every (B, heads, T, K) score array of every layer until the step's manager
        // closes. The 1/sqrt(d) scale goes on the queries (B, heads, T, d), not on the 4x larger scores.
        NDArray probs;
        try (NDArray qh = heads(q); NDArray qs = Ops.scale(qh, 1.0 / Math.sqrt(config.headSize()));
                NDArray kh = heads(k); NDArray kt = kh.transpose(0, 1, 3, 2); NDArray raw = qs.matMul(kt);
                NDArray scores = raw.add(maskAdd)) {
            probs = scores.softmax(-1);
        }
        q.close();
        k.close();
        if (training && config.attentionProbsDropoutProb() > 0) {
            NDArray dropped = HostDropout.apply(probs, config.attentionProbsDropoutProb());
            probs.close();
            probs = dropped;
        }
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        NDArray ctx;
        try (NDArray vh = heads(v); NDArray mixed = probs.matMul(vh); NDArray moved = mixed.transpose(0, 2, 1, 3)) {
            ctx = moved.reshape(b, t, config.hiddenSize());
        }
        probs.close();
        v.close();
        return new NDList(ctx);
    }
}
