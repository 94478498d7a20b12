package io.peftfoundry.engine.model.llama;

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
 * LLaMA with its language-model head: {@code lm_head} (H → V, no bias) of its own, or tied to
 * {@code model.embed_tokens.weight} when {@code tie_word_embeddings} (then no {@code lm_head} parameter).
 * Paths equal transformers' {@code LlamaForCausalLM} keys, so PEFT adapter keys
 * ({@code model.layers.0.self_attn.q_proj.lora_A.weight}) line up.
 *
 * <p>Input: as {@link LlamaModel}. Output: {@code NDList(logits (B,T,V), k0, v0, …)}.
 */
public class LlamaForCausalLM extends HfModule implements CausalDecoder {

    private final LlamaModel model;

    public LlamaForCausalLM(LlamaConfig config) {
        model = module("model", new LlamaModel(config));
        if (!config.tieWordEmbeddings()) {
            module("lm_head", new HfLinear(config.hiddenSize(), config.vocabSize(), false));
        }
    }

    public LlamaConfig config() {
        return model.config();
    }

    public LlamaModel model() {
        return model;
    }

    @Override
    public int numLayers() {
        return model.numLayers();
    }

    @Override
    public int hiddenSize() {
        return config().hiddenSize();
    }

    @Override
    public int numAttentionHeads() {
        return config().numAttentionHeads();
    }

    @Override
    public int numKeyValueHeads() {
        return config().numKeyValueHeads();
    }

    @Override
    public int headDim() {
        return config().headDim();
    }

    @Override
    public int vocabSize() {
        return config().vocabSize();
    }

    @Override
    public int maxPositions() {
        return config().maxPositionEmbeddings();
    }

    @Override
    public int virtualTokens() {
        return model.virtualTokens();
    }

    @Override
    public int eosTokenId() {
        return config().eosTokenId();
    }

    @Override
    public void save(java.nio.file.Path dir) throws java.io.IOException {
        LlamaCheckpoint.save(this, dir);
    }

    @Override
    public HfEmbedding tokenEmbedding() {
        return model.embedTokens();
    }

    @Override
    public DecoderBlock layer(int i) {
        return model.layer(i);
    }

    @Override
    public String layerPath(int i) {
        return "model.layers." + i;
    }

    @Override
    public void setPromptEncoder(String name, HfModule encoder) {
        model.setPromptEncoder(name, encoder);
    }

    @Override
    public void setPrefixEncoder(String name, HfModule encoder) {
        model.setPrefixEncoder(name, encoder);
    }

    @Override
    public String architecture() {
        return config().modelType();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = model.forward(ps, inputs, training, params);
        NDArray h = out.get(0);
        if (config().tieWordEmbeddings()) {
            NDArray w = ps.getValue(model.embedTokens().weight(), h.getDevice(), training);
            out.set(0, HfLinear.linear(h, w, null));
        } else {
            out.set(0, module("lm_head").forward(ps, new NDList(h), training).head());
        }
        return out;
    }
}
