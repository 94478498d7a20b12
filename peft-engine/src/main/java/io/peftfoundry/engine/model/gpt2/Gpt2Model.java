package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.CausalMask;
import io.peftfoundry.engine.model.GradientCheckpointing;
import io.peftfoundry.engine.model.HfEmbedding;
import io.peftfoundry.engine.model.HfLayerNorm;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HfModuleList;
import io.peftfoundry.engine.model.HostDropout;
import io.peftfoundry.engine.model.KvCache;
import io.peftfoundry.engine.model.PositionIds;
import io.peftfoundry.engine.model.VirtualTokens;

/**
 * The GPT-2 transformer ({@code transformer.*} in a {@code GPT2LMHeadModel} checkpoint): {@code wte},
 * {@code wpe}, {@code h.N}, {@code ln_f}.
 *
 * <p>Input: {@code NDList(ids (B,T) int64, mask (B,P+T) int64 or null, k0, v0, k1, v1, …)} with the
 * optional key/value cache of P earlier positions, each (B, heads, P, d) — or preallocated buffers written in place
 * ({@link KvCache}, then the mask is required). Positions are numbered
 * P, P+1, … (as transformers does without explicit position ids), so sequences are right-padded; or, per row, by
 * the {@link PositionIds#KEY} parameter of the forward call (batched decoding with rows of different lengths).
 * Output: {@code NDList(hidden (B,T,H), k0', v0', …)} with the cache extended to P+T. Prompt and prefix
 * encoders, when a method installed one, act on calls without a cache (see {@link io.peftfoundry.engine.model.CausalDecoder}).
 * A training call whose parameters carry a {@link GradientCheckpointing} checkpoints every block (the returned cache
 * entries are then null).
 */
public class Gpt2Model extends HfModule {

    private final Gpt2Config config;
    private final HfModuleList<Gpt2Block> blocks;
    private HfModule promptEncoder;
    private HfModule prefixEncoder;

    public Gpt2Model(Gpt2Config c) {
        this.config = c;
        module("wte", new HfEmbedding(c.vocabSize(), c.nEmbd()));
        module("wpe", new HfEmbedding(c.nPositions(), c.nEmbd()));
        blocks = module("h", new HfModuleList<>());
        for (int i = 0; i < c.nLayer(); i++) {
            blocks.add(new Gpt2Block(c));
        }
        module("ln_f", new HfLayerNorm(c.nEmbd(), c.layerNormEpsilon()));
    }

    public Gpt2Config config() {
        return config;
    }

    public HfEmbedding wte() {
        return (HfEmbedding) module("wte");
    }

    public int numLayers() {
        return blocks.size();
    }

    public Gpt2Block block(int i) {
        return blocks.get(i);
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
        NDArray tokens = module("wte").forward(ps, new NDList(ids), training).head();
        if (!given && prefixEncoder != null) {
            // prefix tuning: the prefix is the cache of a call without one (PEFT's past_key_values)
            cache = VirtualTokens.prefixCache(prefixEncoder, ps, ids, training, config.nHead(), config.headSize(),
                    tokens.getDataType());
            mask = VirtualTokens.extendMask(mask, cache.get(0).getShape().get(2));
        }
        long promptLength = 0;
        if (!given && promptEncoder != null) {
            // prompt tuning: soft tokens in front of the token embeddings; positions count them
            NDArray prompt = promptEncoder.forward(ps, new NDList(ids), training).head().toType(tokens.getDataType(), false);
            promptLength = prompt.getShape().get(1);
            tokens = prompt.concat(tokens, 1);
            mask = VirtualTokens.extendMask(mask, promptLength);
        }
        int t = (int) tokens.getShape().get(1);
        int past = KvCache.past(cache != null ? cache.get(0) : null, mask, t);
        long[] positionIds = PositionIds.of(params, batch, t, promptLength);
        long last = positionIds == null ? past + t - 1 : PositionIds.max(positionIds);
        if (last >= config.nPositions()) {
            throw new IllegalArgumentException("sequence of " + (last + 1) + " tokens is longer than n_positions "
                    + config.nPositions());
        }
        NDArray positions = positionIds == null
                ? m.arange(past, past + t).toType(ai.djl.ndarray.types.DataType.INT64, false)
                : m.create(positionIds, new ai.djl.ndarray.types.Shape(batch, t)).duplicate();
        NDArray h = tokens.add(module("wpe").forward(ps, new NDList(positions), training).head());
        if (training && config.embdPdrop() > 0) {
            h = HostDropout.apply(h, config.embdPdrop());
        }
        NDArray maskAdd = CausalMask.additive(m, mask, batch, t, past).toType(h.getDataType(), false);
        NDList out = new NDList();
        out.add(null);
        GradientCheckpointing checkpointing = training ? GradientCheckpointing.of(params) : null;
        for (int i = 0; i < blocks.size(); i++) {
            NDArray pk = cache != null ? cache.get(2 * i) : null;
            NDArray pv = cache != null ? cache.get(2 * i + 1) : null;
            NDList blockInputs = new NDList(h, maskAdd, pk, pv);
            NDList r = checkpointing != null ? checkpointing.forward(blocks.get(i), ps, blockInputs, 0, 2, 3)
                    : blocks.get(i).forward(ps, blockInputs, training);
            if (checkpointing == null) {
                h.close(); // the block's input: autograd keeps it if backward needs it (checkpointing keeps it itself)
            }
            h = r.get(0);
            out.add(r.get(1));
            out.add(r.get(2));
        }
        h = module("ln_f").forward(ps, new NDList(h), training).head();
        out.set(0, promptLength > 0 ? h.get(":, " + promptLength + ":, :") : h);
        return out;
    }
}
