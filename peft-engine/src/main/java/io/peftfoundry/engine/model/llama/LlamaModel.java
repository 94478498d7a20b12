package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.CausalMask;
import io.peftfoundry.engine.model.KvCache;
import io.peftfoundry.engine.model.GradientCheckpointing;
import io.peftfoundry.engine.model.HfEmbedding;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HfModuleList;
import io.peftfoundry.engine.model.PositionIds;
import io.peftfoundry.engine.model.VirtualTokens;

/**
 * The LLaMA decoder (also Mistral's, with its sliding window in the mask, and Qwen2's) ({@code model.*} in a {@code LlamaForCausalLM} checkpoint): {@code embed_tokens},
 * {@code layers.N}, {@code norm}. No learned positions: rotary embeddings in every attention layer.
 *
 * <p>Input: {@code NDList(ids (B,T) int64, mask (B,P+T) or null, k0, v0, k1, v1, …)} with the optional
 * key/value cache of P earlier positions, each (B, kv_heads, P, d). Positions are numbered P, P+1, …
 * (transformers' cache_position without explicit position ids), so sequences are right-padded; or, per row, by the
 * {@link PositionIds#KEY} parameter of the forward call (batched decoding with rows of different lengths).
 * Output: {@code NDList(hidden (B,T,H), k0', v0', …)} with the cache extended to P+T. Prompt and prefix
 * encoders, when a method installed one, act on calls without a cache (see {@link io.peftfoundry.engine.model.CausalDecoder}).
 * A training call whose parameters carry a {@link GradientCheckpointing} checkpoints every layer (the returned cache
 * entries are then null).
 */
public class LlamaModel extends HfModule {

    private final LlamaConfig config;
    private final HfModuleList<LlamaDecoderLayer> layers;
    private HfModule promptEncoder;
    private HfModule prefixEncoder;

    public LlamaModel(LlamaConfig c) {
        this.config = c;
        module("embed_tokens", new HfEmbedding(c.vocabSize(), c.hiddenSize()));
        layers = module("layers", new HfModuleList<>());
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            layers.add(new LlamaDecoderLayer(c));
        }
        module("norm", new LlamaRmsNorm(c.hiddenSize(), c.rmsNormEps()));
    }

    public LlamaConfig config() {
        return config;
    }

    public HfEmbedding embedTokens() {
        return (HfEmbedding) module("embed_tokens");
    }

    public int numLayers() {
        return layers.size();
    }

    public LlamaDecoderLayer layer(int i) {
        return layers.get(i);
    }

    /** Positions taken by an installed prompt or prefix encoder's virtual tokens. */
    public int virtualTokens() {
        return VirtualTokens.count(promptEncoder, prefixEncoder);
    }

    public void setPromptEncoder(String name, HfModule encoder) {
        promptEncoder = attachModule(name, encoder);
    }

    public void setPrefixEncoder(String name, HfModule encoder) {
        prefixEncoder = attachModule(name, encoder);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        NDManager m = ids.getManager();
        long batch = ids.getShape().get(0);
        boolean given = inputs.size() > 2 && inputs.get(2) != null;
        NDList cache = given ? new NDList(inputs.subList(2, inputs.size())) : null;
        NDArray h = module("embed_tokens").forward(ps, new NDList(ids), training).head();
        if (!given && prefixEncoder != null) {
            // prefix tuning: the prefix is the cache of a call without one (PEFT's past_key_values, kv heads)
            cache = VirtualTokens.prefixCache(prefixEncoder, ps, ids, training, config.numKeyValueHeads(),
                    config.headDim(), h.getDataType());
            mask = VirtualTokens.extendMask(mask, cache.get(0).getShape().get(2));
        }
        long promptLength = 0;
        if (!given && promptEncoder != null) {
            // prompt tuning: soft tokens in front of the token embeddings; positions count them
            NDArray prompt = promptEncoder.forward(ps, new NDList(ids), training).head().toType(h.getDataType(), false);
            promptLength = prompt.getShape().get(1);
            h = prompt.concat(h, 1);
            mask = VirtualTokens.extendMask(mask, promptLength);
        }
        int t = (int) h.getShape().get(1);
        int past = KvCache.past(cache != null ? cache.get(0) : null, mask, t);
        NDArray maskAdd = CausalMask.additive(m, mask, batch, t, past, config.slidingWindow()).toType(h.getDataType(), false);
        long[] positionIds = PositionIds.of(params, batch, t, promptLength);
        NDList rot = positionIds == null ? LlamaRotary.cosSin(m, config, past, t) : LlamaRotary.cosSin(m, config, positionIds, batch, t);
        NDArray cos = rot.get(0).toType(h.getDataType(), false);
        NDArray sin = rot.get(1).toType(h.getDataType(), false);
        NDList out = new NDList();
        out.add(null);
        GradientCheckpointing checkpointing = training ? GradientCheckpointing.of(params) : null;
        for (int i = 0; i < layers.size(); i++) {
            NDArray pk = cache != null ? cache.get(2 * i) : null;
            NDArray pv = cache != null ? cache.get(2 * i + 1) : null;
            NDList layerInputs = new NDList(h, maskAdd, cos, sin, pk, pv);
            NDList r = checkpointing != null ? checkpointing.forward(layers.get(i), ps, layerInputs, 0, 4, 5)
                    : layers.get(i).forward(ps, layerInputs, training);
            if (i > 0 && checkpointing == null) {
                h.close(); // the previous layer's output, used up (autograd keeps its own reference)
            }
            h = r.get(0);
            out.add(r.get(1));
            out.add(r.get(2));
        }
        h = module("norm").forward(ps, new NDList(h), training).head();
        out.set(0, promptLength > 0 ? h.get(":, " + promptLength + ":, :") : h);
        return out;
    }
}
