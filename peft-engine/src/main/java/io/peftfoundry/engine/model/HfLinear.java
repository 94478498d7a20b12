package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** {@code y = x W^T + b}, W stored (out, in) as in PyTorch: (..., in) → (..., out). */
public class HfLinear extends HfModule {

    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    public HfLinear(int inFeatures, int outFeatures, boolean hasBias) {
        this(inFeatures, outFeatures, hasBias, Parameter.Type.WEIGHT);
    }

    /**
     * @param weightType DJL type of the weight; methods use {@code OTHER} so that no global weight
     *     initializer can ever overwrite their initial values (FACTS.md: LoRA's B = 0)
     */
    public HfLinear(int inFeatures, int outFeatures, boolean hasBias, Parameter.Type weightType) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = param("weight", weightType);
        this.bias = hasBias ? param("bias", weightType == Parameter.Type.WEIGHT ? Parameter.Type.BIAS : weightType) : null;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        NDArray b = bias == null ? null : ps.getValue(bias, x.getDevice(), training);
        return Linear.linear(x, w, b);
    }
}
