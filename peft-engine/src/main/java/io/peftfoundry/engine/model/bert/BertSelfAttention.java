package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.norm.Dropout;
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
        return x.reshape(b, t, config.numAttentionHeads(), config.headSize()).transpose(0, 2, 1, 3);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray maskAdd = inputs.get(1);
        NDArray q = module("query").forward(ps, new NDList(h), training).head();
        NDArray k = module("key").forward(ps, new NDList(h), training).head();
        NDArray v = module("value").forward(ps, new NDList(h), training).head();
        if (inputs.size() > 3 && inputs.get(2) != null) {
            k = inputs.get(2).concat(k, 1);
            v = inputs.get(3).concat(v, 1);
        }
        NDArray qh = heads(q);
        NDArray kh = heads(k);
        NDArray vh = heads(v);
        NDArray scores = Ops.scale(qh.matMul(kh.transpose(0, 1, 3, 2)), 1.0 / Math.sqrt(config.headSize())).add(maskAdd);
        NDArray probs = scores.softmax(-1);
        if (training && config.attentionProbsDropoutProb() > 0) {
            probs = Dropout.dropout(probs, config.attentionProbsDropoutProb(), true).head();
        }
        NDArray ctx = probs.matMul(vh).transpose(0, 2, 1, 3);
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        return new NDList(ctx.reshape(b, t, config.hiddenSize()));
    }
}
