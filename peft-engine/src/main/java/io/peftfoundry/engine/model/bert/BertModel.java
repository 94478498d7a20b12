package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfEmbedding;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HfModuleList;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * BERT encoder: {@code embeddings} then {@code encoder.layer.N}. Parameter paths equal the keys of a
 * Hugging Face {@code BertModel} checkpoint.
 *
 * <p>Input: {@code NDList(inputIds (B,T) int64, tokenTypeIds (B,T) int64, attentionMask (B,T) int64)}.
 * Output: {@code NDList(sequenceOutput (B,T,H))} — positions of soft prompt tokens, if any, are removed.
 *
 * <p>Extension points for PEFT methods besides wrapping named linears
 * ({@link HfModule#replaceModule}) and sublayer adapters ({@link BertSublayerOutput#setAdapter}):
 * <ul>
 *   <li>{@link #setPromptEncoder}: a module mapping {@code NDList(inputIds)} to {@code NDList(soft (B,P,H))},
 *       prepended to the word embeddings; the attention mask is extended with ones.</li>
 *   <li>{@link #setPrefixEncoder}: a module mapping {@code NDList(inputIds)} to
 *       {@code NDList(k0, v0, k1, v1, …)}, each (B,P,H), concatenated in front of each layer's projected
 *       keys/values; the mask is extended with ones and token positions start at P (as transformers'
 *       BERT with {@code past_key_values}).</li>
 * </ul>
 */
public class BertModel extends HfModule implements Backbone {

    private final BertConfig config;
    private final BertEmbeddings embeddings;
    private final HfModuleList<BertLayer> layers;
    private HfModule promptEncoder;
    private HfModule prefixEncoder;

    public BertModel(BertConfig config) {
        this.config = config;
        embeddings = module("embeddings", new BertEmbeddings(config));
        Encoder encoder = module("encoder", new Encoder());
        layers = encoder.layers;
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(new BertLayer(config));
        }
    }

    public BertConfig config() {
        return config;
    }

    @Override
    public String architecture() {
        return "bert";
    }

    public BertEmbeddings embeddings() {
        return embeddings;
    }

    public BertLayer layer(int i) {
        return layers.get(i);
    }

    @Override
    public int numLayers() {
        return layers.size();
    }

    @Override
    public int hiddenSize() {
        return config.hiddenSize();
    }

    @Override
    public int numAttentionHeads() {
        return config.numAttentionHeads();
    }

    /** BERT has no grouped-query attention: as many key/value heads as query heads. */
    @Override
    public int numKeyValueHeads() {
        return config.numAttentionHeads();
    }

    @Override
    public int headDim() {
        return config.headSize();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public HfEmbedding tokenEmbedding() {
        return embeddings.wordEmbeddings();
    }

    @Override
    public void setPromptEncoder(String name, HfModule encoder) {
        promptEncoder = attachModule(name, encoder);
    }

    @Override
    public void setPrefixEncoder(String name, HfModule encoder) {
        prefixEncoder = attachModule(name, encoder);
    }

    /** After {@code encoder.layer.i.attention.output}'s dense projection, before its residual add and LayerNorm. */
    @Override
    public AdapterSite attentionAdapterSite(int i) {
        BertSublayerOutput out = layer(i).attention().output();
        return new AdapterSite("encoder.layer." + i + ".attention.output", out.module("LayerNorm"),
                m -> out.setAdapter("adapters", m));
    }

    /** After {@code encoder.layer.i.output}'s dense projection (the FFN), before its residual add and LayerNorm. */
    @Override
    public AdapterSite outputAdapterSite(int i) {
        BertSublayerOutput out = layer(i).output();
        return new AdapterSite("encoder.layer." + i + ".output", out.module("LayerNorm"), m -> out.setAdapter("adapters", m));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray types = inputs.get(1);
        NDArray mask = inputs.get(2);
        NDManager m = ids.getManager();
        long batch = ids.getShape().get(0);

        NDArray prompt = null;
        long promptLen = 0;
        if (promptEncoder != null) {
            prompt = promptEncoder.forward(ps, new NDList(ids), training).head();
            promptLen = prompt.getShape().get(1);
            mask = m.ones(new Shape(batch, promptLen), DataType.INT64).concat(mask, 1);
        }
        NDList prefixes = null;
        NDArray keyMask = mask;
        NDArray firstPosition = null;
        if (prefixEncoder != null) {
            prefixes = prefixEncoder.forward(ps, new NDList(ids), training);
            long p = prefixes.get(0).getShape().get(1);
            keyMask = m.ones(new Shape(batch, p), DataType.INT64).concat(mask, 1);
            // transformers' BERT numbers positions after the past key/values: P, P+1, … (so PEFT prefixes load unchanged)
            firstPosition = m.create(p);
        }
        NDArray h = embeddings.forward(ps, new NDList(ids, types, prompt, firstPosition), training).head();

        // (B, K) {0,1} → additive (B, 1, 1, K): 0 where attended, -10000 where masked (as HF BERT)
        NDArray maskAdd = keyMask.toType(h.getDataType(), false).sub(1).mul(10000.0f)
                .reshape(batch, 1, 1, keyMask.getShape().get(1));
        for (int i = 0; i < layers.size(); i++) {
            NDList in = prefixes == null
                    ? new NDList(h, maskAdd)
                    : new NDList(h, maskAdd, prefixes.get(2 * i), prefixes.get(2 * i + 1));
            NDArray next = layers.get(i).forward(ps, in, training).head();
            h.close(); // the layer's input: autograd keeps it if backward needs it
            h = next;
        }
        if (promptLen > 0) {
            h = h.get(":, " + promptLen + ":, :");
        }
        return new NDList(h);
    }

    /** Holds {@code layer}; the loop lives in BertModel so that prefixes and masks stay in one place. */
    public static class Encoder extends HfModule {
        final HfModuleList<BertLayer> layers = module("layer", new HfModuleList<>());

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            throw new UnsupportedOperationException("called through BertModel");
        }
    }
}
