package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.DecoderBlock;
import io.peftfoundry.engine.model.HfModule;

/**
 * Pre-norm block {@code layers.N}: {@code h + self_attn(input_layernorm(h))}, then
 * {@code h + mlp(post_attention_layernorm(h))}; bottleneck adapters, when installed ({@link DecoderBlock}), adjust
 * the attention and MLP outputs before they join the residual stream. Input/output as {@link LlamaAttention}.
 */
public class LlamaDecoderLayer extends HfModule implements DecoderBlock {

    private HfModule attentionAdapter;
    private HfModule outputAdapter;

    public LlamaDecoderLayer(LlamaConfig c) {
        module("self_attn", new LlamaAttention(c));
        module("mlp", new LlamaMlp(c));
        module("input_layernorm", new LlamaRmsNorm(c.hiddenSize(), c.rmsNormEps()));
        module("post_attention_layernorm", new LlamaRmsNorm(c.hiddenSize(), c.rmsNormEps()));
    }

    @Override
    public void setAttentionAdapter(HfModule adapter) {
        attentionAdapter = attachModule(ATTENTION_ADAPTERS, adapter);
    }

    @Override
    public void setOutputAdapter(HfModule adapter) {
        outputAdapter = attachModule(OUTPUT_ADAPTERS, adapter);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray x = module("input_layernorm").forward(ps, new NDList(h), training).head();
        NDList in = new NDList(x, inputs.get(1), inputs.get(2), inputs.get(3),
                inputs.size() > 4 ? inputs.get(4) : null, inputs.size() > 5 ? inputs.get(5) : null);
        NDList attn = module("self_attn").forward(ps, in, training);
        NDArray a = attn.get(0);
        if (attentionAdapter != null) {
            a = attentionAdapter.forward(ps, new NDList(a, h), training).head();
        }
        h = h.add(a);
        x.close(); // closed once used: autograd keeps its own references (see LlamaMlp)
        a.close();
        x = module("post_attention_layernorm").forward(ps, new NDList(h), training).head();
        NDArray f = module("mlp").forward(ps, new NDList(x), training).head();
        x.close();
        if (outputAdapter != null) {
            f = outputAdapter.forward(ps, new NDList(f, h), training).head();
        }
        NDArray mid = h;
        h = h.add(f);
        f.close();
        mid.close();
        return new NDList(h, attn.get(1), attn.get(2));
    }
}
