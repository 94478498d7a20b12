package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfEmbedding;
import io.peftfoundry.engine.model.HfLayerNorm;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HfModuleList;

/**
 * The GPT-2 transformer ({@code transformer.*} in a {@code GPT2LMHeadModel} checkpoint): {@code wte},
 * {@code wpe}, {@code h.N}, {@code ln_f}.
 *
 * <p>Input: {@code NDList(ids (B,T) int64, mask (B,P+T) int64 or null, k0, v0, k1, v1, …)} with the
 * optional key/value cache of P earlier positions, each (B, heads, P, d). Positions are numbered
 * P, P+1, … (as transformers does without explicit position ids), so sequences are right-padded.
 * Output: {@code NDList(hidden (B,T,H), k0', v0', …)} with the cache extended to P+T.
 */
public class Gpt2Model extends HfModule {

    /** Added to attention scores of masked keys: exp underflows to exactly 0, as with transformers' finfo.min. */
    static final float MASKED = -1e9f;

    private final Gpt2Config config;
    private final HfModuleList<Gpt2Block> blocks;

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

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        NDManager m = ids.getManager();
        long batch = ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        boolean cached = inputs.size() > 2 && inputs.get(2) != null;
        int past = cached ? (int) inputs.get(2).getShape().get(2) : 0;
        if (past + t > config.nPositions()) {
            throw new IllegalArgumentException("sequence of " + (past + t) + " tokens is longer than n_positions "
                    + config.nPositions());
        }
        NDArray positions = m.arange(past, past + t).toType(ai.djl.ndarray.types.DataType.INT64, false);
        NDArray h = module("wte").forward(ps, new NDList(ids), training).head()
                .add(module("wpe").forward(ps, new NDList(positions), training).head());
        if (training && config.embdPdrop() > 0) {
            h = Dropout.dropout(h, config.embdPdrop(), true).head();
        }
        NDArray maskAdd = additiveMask(m, mask, batch, t, past).toType(h.getDataType(), false);
        NDList out = new NDList();
        out.add(null);
        for (int i = 0; i < blocks.size(); i++) {
            NDArray pk = cached ? inputs.get(2 + 2 * i) : null;
            NDArray pv = cached ? inputs.get(3 + 2 * i) : null;
            NDList r = blocks.get(i).forward(ps, new NDList(h, maskAdd, pk, pv), training);
            h = r.get(0);
            out.add(r.get(1));
            out.add(r.get(2));
        }
        out.set(0, module("ln_f").forward(ps, new NDList(h), training).head());
        return out;
    }

    /** (B,1,T,P+T): 0 where query i (at position P+i) may see key j (j ≤ P+i and not padding), else {@link #MASKED}. */
    static NDArray additiveMask(NDManager m, NDArray mask, long batch, int t, int past) {
        int keys = past + t;
        long[] keep = mask == null ? null : mask.toLongArray();
        if (keep != null && keep.length != batch * keys) {
            throw new IllegalArgumentException("attention mask has shape " + mask.getShape() + ", expected ("
                    + batch + ", " + keys + ")");
        }
        float[] v = new float[(int) (batch * t * keys)];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < keys; j++) {
                    boolean visible = j <= past + i && (keep == null || keep[b * keys + j] != 0);
                    v[(b * t + i) * keys + j] = visible ? 0f : MASKED;
                }
            }
        }
        return m.create(v, new Shape(batch, 1, t, keys)).duplicate(); // owned memory, see HfModule.assign
    }
}
