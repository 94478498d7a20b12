package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.HfLayerNorm;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HostDropout;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The projection that closes a sublayer — {@code attention.output} or {@code output}:
 * {@code LayerNorm(dropout(dense(x)) [→ adapter] + residual)}.
 * Input: x (B, T, in), residual (B, T, H). Output (B, T, H).
 *
 * <p>Extension point for bottleneck adapters: {@link #setAdapter} installs a module that gets
 * {@code NDList(projected, residual)} and returns the new projected value, so sequential
 * (Houlsby/Pfeiffer: {@code p + f(p)}) and parallel ({@code p + f(residual)}) adapters both fit.
 */
public class BertSublayerOutput extends HfModule {

    private final BertConfig config;
    private HfModule adapter;

    public BertSublayerOutput(BertConfig c, int inFeatures) {
        this.config = c;
        module("dense", new HfLinear(inFeatures, c.hiddenSize(), true));
        module("LayerNorm", new HfLayerNorm(c.hiddenSize(), c.layerNormEps()));
    }

    /** Installs an adapter as child {@code name} (e.g. AdapterHub's "adapters.&lt;name&gt;" layout is the caller's choice). */
    public void setAdapter(String name, HfModule adapterModule) {
        if (adapter != null) {
            throw new IllegalStateException("an adapter is already installed here");
        }
        adapter = attachModule(name, adapterModule);
    }

    public HfModule adapter() {
        return adapter;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray residual = inputs.get(1);
        // intermediates closed once used (autograd keeps what backward needs by its own reference)
        NDArray p = module("dense").forward(ps, new NDList(x), training).head();
        if (training && config.hiddenDropoutProb() > 0) {
            p = closeReplaced(p, HostDropout.apply(p, config.hiddenDropoutProb()));
        }
        if (adapter != null) {
            p = closeReplaced(p, adapter.forward(ps, new NDList(p, residual), training).head());
        }
        try (NDArray projected = p; NDArray sum = projected.add(residual)) {
            return module("LayerNorm").forward(ps, new NDList(sum), training);
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
