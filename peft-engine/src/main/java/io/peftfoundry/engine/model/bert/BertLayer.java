package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One post-LN transformer layer, children named as HF: {@code attention.self.{query,key,value}},
 * {@code attention.output.{dense,LayerNorm}}, {@code intermediate.dense}, {@code output.{dense,LayerNorm}}.
 * Input: hidden (B, T, H), additive mask, optional prefix key/value. Output (B, T, H).
 */
public class BertLayer extends HfModule {

    private final BertAttention attention;
    private final BertIntermediate intermediate;
    private final BertSublayerOutput output;

    public BertLayer(BertConfig c) {
        attention = module("attention", new BertAttention(c));
        intermediate = module("intermediate", new BertIntermediate(c));
        output = module("output", new BertSublayerOutput(c, c.intermediateSize()));
    }

    public BertAttention attention() {
        return attention;
    }

    public BertIntermediate intermediate() {
        return intermediate;
    }

    public BertSublayerOutput output() {
        return output;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        // the sublayer outputs are closed once used (autograd keeps what backward needs by its own reference); the
        // (B, T, intermediate) activation is the largest array of the layer after the attention scores
        try (NDArray a = attention.forward(ps, inputs, training).head();
                NDArray i = intermediate.forward(ps, new NDList(a), training).head()) {
            return output.forward(ps, new NDList(i, a), training);
        }
    }

    /** {@code attention.self} + {@code attention.output}. */
    public static class BertAttention extends HfModule {
        private final BertSelfAttention self;
        private final BertSublayerOutput out;

        BertAttention(BertConfig c) {
            self = module("self", new BertSelfAttention(c));
            out = module("output", new BertSublayerOutput(c, c.hiddenSize()));
        }

        public BertSelfAttention self() {
            return self;
        }

        public BertSublayerOutput output() {
            return out;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            try (NDArray ctx = self.forward(ps, inputs, training).head()) {
                return out.forward(ps, new NDList(ctx, inputs.get(0)), training);
            }
        }
    }

    /** {@code intermediate.dense} followed by exact (erf) GELU: (B, T, H) → (B, T, I). */
    public static class BertIntermediate extends HfModule {
        BertIntermediate(BertConfig c) {
            module("dense", new HfLinear(c.hiddenSize(), c.intermediateSize(), true));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            try (NDArray x = module("dense").forward(ps, inputs, training).head()) {
                return new NDList(Activation.gelu(x));
            }
        }
    }
}
