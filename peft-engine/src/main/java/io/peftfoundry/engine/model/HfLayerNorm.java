package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** LayerNorm over the last (hidden) axis only: (B, T, H) → (B, T, H). Names {@code weight}/{@code bias} as HF. */
public class HfLayerNorm extends HfModule {

    private final int size;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public HfLayerNorm(int size, float eps) {
        this.size = size;
        this.eps = eps;
        this.weight = param("weight", Parameter.Type.GAMMA);
        this.bias = param("bias", Parameter.Type.BETA);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        return LayerNorm.layerNorm(x, new Shape(size), ps.getValue(weight, x.getDevice(), training),
                ps.getValue(bias, x.getDevice(), training), eps);
    }
}
