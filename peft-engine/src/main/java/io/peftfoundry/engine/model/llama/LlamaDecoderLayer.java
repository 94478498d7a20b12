package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfModule;

/**
 * Pre-norm block {@code layers.N}: {@code h + self_attn(input_layernorm(h))}, then
 * {@code h + mlp(post_attention_layernorm(h))}. Input/output as {@link LlamaAttention}.
 */
public class LlamaDecoderLayer extends HfModule {

    public LlamaDecoderLayer(LlamaConfig c) {
        module("self_attn", new LlamaAttention(c));
        module("mlp", new LlamaMlp(c));
        module("input_layernorm", new LlamaRmsNorm(c.hiddenSize(), c.rmsNormEps()));
        module("post_attention_layernorm", new LlamaRmsNorm(c.hiddenSize(), c.rmsNormEps()));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray x = module("input_layernorm").forward(ps, new NDList(h), training).head();
        NDList in = new NDList(x, inputs.get(1), inputs.get(2), inputs.get(3),
                inputs.size() > 4 ? inputs.get(4) : null, inputs.size() > 5 ? inputs.get(5) : null);
        NDList attn = module("self_attn").forward(ps, in, training);
        h = h.add(attn.get(0));
        x = module("post_attention_layernorm").forward(ps, new NDList(h), training).head();
        h = h.add(module("mlp").forward(ps, new NDList(x), training).head());
        return new NDList(h, attn.get(1), attn.get(2));
    }
}
