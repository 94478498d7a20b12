package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfModule;

/**
 * GPT-2 with its language-model head tied to the token embedding ({@code lm_head.weight} =
 * {@code transformer.wte.weight}, so it is not a parameter of its own). Paths equal the keys of
 * transformers' {@code GPT2LMHeadModel}, so PEFT adapter keys ({@code transformer.h.0.attn.c_attn.lora_A.weight})
 * line up.
 *
 * <p>Input: as {@link Gpt2Model}. Output: {@code NDList(logits (B,T,V), k0, v0, …)} — the logits and the
 * extended key/value cache.
 */
public class Gpt2LmHeadModel extends HfModule implements io.peftfoundry.engine.model.Backbone {

    private final Gpt2Model transformer;

    public Gpt2LmHeadModel(Gpt2Config config) {
        transformer = module("transformer", new Gpt2Model(config));
    }

    public Gpt2Config config() {
        return transformer.config();
    }

    @Override
    public String architecture() {
        return "gpt2";
    }

    public Gpt2Model transformer() {
        return transformer;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = transformer.forward(ps, inputs, training);
        NDArray h = out.get(0);
        NDArray wte = ps.getValue(transformer.wte().weight(), h.getDevice(), training);
        out.set(0, Linear.linear(h, wte, null).head());
        return out;
    }
}
