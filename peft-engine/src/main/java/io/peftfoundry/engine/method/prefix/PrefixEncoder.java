package io.peftfoundry.engine.method.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;

/**
 * PEFT's PrefixEncoder: NDList(inputIds (B,T)) → NDList(k0, v0, k1, v1, …), each (B, P, H), the projected
 * keys and values every attention layer sees in front of its own.
 * The prefix table (P, L·2·H) is either {@code transform(embedding)} with
 * {@code transform = Linear(H→E), tanh, Linear(E→L·2·H)} (training with reparameterisation) or the
 * {@code embedding} itself (the final vectors, as saved). Column block 2l is layer l's key, 2l+1 its
 * value, each laid out head-major (heads × head size) — PEFT's past_key_values view.
 */
public class PrefixEncoder extends HfModule {

    private final int layers;
    private final Table embedding;
    private final Transform transform;

    /**
     * @param projectionHidden E, or ≤ 0 for no reparameterisation (the embedding is the final table)
     */
    public PrefixEncoder(int numVirtualTokens, int hidden, int layers, int projectionHidden) {
        this.layers = layers;
        boolean project = projectionHidden > 0;
        this.embedding = module("embedding", new Table(numVirtualTokens, project ? hidden : layers * 2 * hidden));
        this.transform = project ? module("transform", new Transform(hidden, projectionHidden, layers * 2 * hidden)) : null;
    }

    public Parameter embedding() {
        return embedding.weight;
    }

    /** The MLP's linears {@code transform.0} and {@code transform.2}; null without reparameterisation. */
    public HfLinear[] transformLayers() {
        return transform == null ? null : new HfLinear[] {transform.first, transform.second};
    }

    /** The final prefix table (P, L·2·H): what PEFT saves as {@code prompt_embeddings}. */
    public NDArray table(ParameterStore ps, boolean training) {
        return table(ps, training, embedding.weight.getArray().getManager());
    }

    /** The table computed on {@code step}'s arrays, so a training step's intermediates are freed with it. */
    NDArray table(ParameterStore ps, boolean training, ai.djl.ndarray.NDManager step) {
        NDArray e = Ops.onStep(ps.getValue(embedding.weight, embedding.weight.getArray().getDevice(), training), step);
        if (transform == null) {
            return e;
        }
        NDArray h = transform.first.forward(ps, new NDList(e), training).head().tanh();
        return transform.second.forward(ps, new NDList(h), training).head();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        long batch = inputs.head().getShape().get(0);
        NDArray t = table(ps, training, inputs.head().getManager());
        NDArray perBatch = t.expandDims(0).broadcast(batch, t.getShape().get(0), t.getShape().get(1));
        return perBatch.split(2L * layers, 2);
    }

    /** A trainable (rows, cols) matrix named {@code weight}, as nn.Embedding's. */
    static final class Table extends HfModule {
        final Parameter weight;
        final long rows;
        final long cols;

        Table(long rows, long cols) {
            this.rows = rows;
            this.cols = cols;
            this.weight = param("weight", Parameter.Type.OTHER);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            throw new UnsupportedOperationException("read through PrefixEncoder.table");
        }
    }

    /** nn.Sequential(Linear, Tanh, Linear): children "0" and "2" as PyTorch names them. */
    static final class Transform extends HfModule {
        final HfLinear first;
        final HfLinear second;

        Transform(int in, int hidden, int out) {
            first = module("0", new HfLinear(in, hidden, true, Parameter.Type.OTHER));
            second = module("2", new HfLinear(hidden, out, true, Parameter.Type.OTHER));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray h = first.forward(ps, inputs, training).head().tanh();
            return second.forward(ps, new NDList(h), training);
        }
    }
}
