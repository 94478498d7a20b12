package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.TorchOps;

/**
 * LlamaRMSNorm: {@code weight · x / sqrt(mean(x², last axis) + eps)}, no bias, no mean subtraction: (..., H) → (..., H);
 * computed as transformers writes it (in float32, with rsqrt) through {@link TorchOps#rmsNorm}.
 */
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
        // transformers' formula, w · (x · rsqrt(mean(x²) + eps)), in one TorchScript call; eps as a PyTorch-created
        // constant (autograd keeps it alive; see Ops)
        try (NDArray e = x.getManager().full(new Shape(), eps, DataType.FLOAT32, x.getDevice())) {
            return new NDList(TorchOps.rmsNorm(x, w, e));
        }
    }
}
