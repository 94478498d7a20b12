package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfModule;

/** LlamaRMSNorm: {@code weight · x / sqrt(mean(x², last axis) + eps)}, no bias, no mean subtraction: (..., H) → (..., H). */
public class LlamaRmsNorm extends HfModule {

    private final int size;
    private final float eps;
    private final Parameter weight;

    public LlamaRmsNorm(int size, float eps) {
        this.size = size;
        this.eps = eps;
        this.weight = param("weight", Parameter.Type.GAMMA);
    }

    public int size() {
        return size;
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        // intermediates closed once used (autograd holds its own references; see LlamaMlp)
        try (NDArray squared = x.mul(x); NDArray variance = squared.mean(new int[] {-1}, true);
                // eps as a PyTorch-created constant (autograd keeps it alive; see Ops)
                NDArray e = x.getManager().full(new Shape(), eps, x.getDataType(), x.getDevice());
                NDArray shifted = variance.add(e); NDArray root = shifted.sqrt(); NDArray normed = x.div(root)) {
            // no NDArray op with a Java Number (pow(-1), mul(2.0)) here: see Ops
            return new NDList(normed.mul(w));
        }
    }
}
