package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
        return new NDList(linear(x, w, b));
    }

    /**
     * {@code x W^T + b}. A float16 weight (a frozen backbone held at {@code precision: fp16}) with a wider input is
     * multiplied in float16 — {@code x} cast down, the product cast back up, the bias (kept float32) added after —
     * rather than widened: autograd would keep a widened copy of every weight for backward, and the memory saved by
     * holding the weight in float16 would be spent again. A bfloat16 weight ({@code precision: bf16}) is used the same
     * way through {@link TorchOps#linearBf16} (DJL 0.36 cannot cast to bf16).
     */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        if (TorchOps.isBf16(w)) {
            NDArray y = TorchOps.linearBf16(x, w);
            if (b == null) {
                return y;
            }
            try (y) {
                return y.add(b);
            }
        }
        DataType out = x.getDataType();
        if (w.getDataType() != DataType.FLOAT16 || out == DataType.FLOAT16) {
            Shape shape = x.getShape();
            if (b == null || shape.dimension() <= 2) {
                return Linear.linear(x, w, b).head();
            }
            // DJL's JNI calls the C++ frontend's linear, which fuses the bias (one addmm) only for 2-D input; on
            // (..., in) it runs matmul then a separate in-place add over the whole output. Flattened to
            // (rows, in) it is one addmm, as torch.nn.Linear (at::linear) does.
            try (NDArray x2 = x.reshape(-1, shape.get(shape.dimension() - 1));
                    NDArray y2 = Linear.linear(x2, w, b).head()) {
                return y2.reshape(shape.slice(0, shape.dimension() - 1).add(w.getShape().get(0)));
            }
        }
        NDArray y;
        // intermediates closed once used (autograd holds its own references; see LlamaMlp)
        // Ops.cast, not toType: DJL's toType cuts the gradient, and LoRA/IA3/adapters below need it
        try (NDArray xh = Ops.cast(x, DataType.FLOAT16); NDArray yh = Linear.linear(xh, w, null).head()) {
            y = Ops.cast(yh, out);
        }
        if (b == null) {
            return y;
        }
        try (y) {
            return y.add(b);
        }
    }
}
