package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.DecoderBlock;
import io.peftfoundry.engine.model.HfLayerNorm;
import io.peftfoundry.engine.model.HfModule;

/**
 * Pre-LN decoder block {@code h.N}: {@code h + attn(ln_1(h))}, then {@code h + mlp(ln_2(h))}.
 * Bottleneck adapters, when installed ({@link DecoderBlock}), adjust the attention and MLP outputs before they
 * join the residual stream. Input/output as {@link Gpt2Attention}: {@code NDList(h, maskAdd, pastK, pastV) → NDList(h', k, v)}.
 */
public class Gpt2Block extends HfModule implements DecoderBlock {

    private HfModule attentionAdapter;
    private HfModule outputAdapter;

    public Gpt2Block(Gpt2Config c) {
        module("ln_1", new HfLayerNorm(c.nEmbd(), c.layerNormEpsilon()));
        module("attn", new Gpt2Attention(c));
        module("ln_2", new HfLayerNorm(c.nEmbd(), c.layerNormEpsilon()));
        module("mlp", new Gpt2Mlp(c));
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
        // intermediates closed once used (autograd keeps what backward needs by its own reference)
        NDArray h = inputs.get(0);
        NDList attn;
        try (NDArray x = module("ln_1").forward(ps, new NDList(h), training).head()) {
            attn = module("attn").forward(ps,
                    new NDList(x, inputs.get(1), inputs.size() > 2 ? inputs.get(2) : null, inputs.size() > 3 ? inputs.get(3) : null),
                    training);
        }
        NDArray a = attn.get(0);
        if (attentionAdapter != null) {
            a = closeReplaced(a, attentionAdapter.forward(ps, new NDList(a, h), training).head());
        }
        NDArray mid = h.add(a);
        a.close();
        NDArray f;
        try (NDArray x = module("ln_2").forward(ps, new NDList(mid), training).head()) {
            f = module("mlp").forward(ps, new NDList(x), training).head();
        }
        if (outputAdapter != null) {
            f = closeReplaced(f, outputAdapter.forward(ps, new NDList(f, mid), training).head());
        }
        try (mid; NDArray ff = f) {
            return new NDList(mid.add(ff), attn.get(1), attn.get(2));
        }
    }

    /** {@code next}, having closed {@code previous} unless it is the same array. */
    private static NDArray closeReplaced(NDArray previous, NDArray next) {
        if (next != previous) {
            previous.close();
        }
        return next;
    }
}
