package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.DecoderBlock;
import io.peftfoundry.engine.model.HfEmbedding;
import io.peftfoundry.engine.model.HfLinear;
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
public class Gpt2LmHeadModel extends HfModule implements CausalDecoder {

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
    public int numLayers() {
        return transformer.numLayers();
    }

    @Override
    public int hiddenSize() {
        return config().nEmbd();
    }

    @Override
    public int numAttentionHeads() {
        return config().nHead();
    }

    @Override
    public int numKeyValueHeads() {
        return config().nHead();
    }

    @Override
    public int headDim() {
        return config().headSize();
    }

    @Override
    public int vocabSize() {
        return config().vocabSize();
    }

    @Override
    public int maxPositions() {
        return config().nPositions();
    }

    @Override
    public int virtualTokens() {
        return transformer.virtualTokens();
    }

    @Override
    public int eosTokenId() {
        return config().eosTokenId();
    }

    @Override
    public void save(java.nio.file.Path dir) throws java.io.IOException {
        Gpt2Checkpoint.save(this, dir);
    }

    @Override
    public HfEmbedding tokenEmbedding() {
        return transformer.wte();
    }

    @Override
    public DecoderBlock layer(int i) {
        return transformer.block(i);
    }

    @Override
    public String layerPath(int i) {
        return "transformer.h." + i;
    }

    @Override
    public void setPromptEncoder(String name, HfModule encoder) {
        transformer.setPromptEncoder(name, encoder);
    }

    @Override
    public void setPrefixEncoder(String name, HfModule encoder) {
        transformer.setPrefixEncoder(name, encoder);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = transformer.forward(ps, inputs, training, params);
        NDArray h = out.get(0);
        NDArray wte = ps.getValue(transformer.wte().weight(), h.getDevice(), training);
        out.set(0, HfLinear.linear(h, wte, null));
        return out;
    }
}
