package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.TorchOps;

/**
 * SwiGLU: {@code down_proj(silu(gate_proj(x)) · up_proj(x))}, (B, T, H) → (B, T, H). When all three projections are
 * plain bf16 linears without bias ({@code precision: bf16}, no method wrapping them), the whole block runs in bf16
 * in one TorchScript call ({@link TorchOps#swigluBf16}), as transformers runs it on a bf16 model: the (B, T, I)
 * intermediates kept for backward are bf16 instead of float32.
 */
public class LlamaMlp extends HfModule {

    public LlamaMlp(LlamaConfig c) {
        module("gate_proj", new HfLinear(c.hiddenSize(), c.intermediateSize(), c.mlpBias()));
        module("up_proj", new HfLinear(c.hiddenSize(), c.intermediateSize(), c.mlpBias()));
        module("down_proj", new HfLinear(c.intermediateSize(), c.hiddenSize(), c.mlpBias()));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        HfModule gateProj = module("gate_proj");
        HfModule upProj = module("up_proj");
        HfModule downProj = module("down_proj");
        if (plainBf16(gateProj) && plainBf16(upProj) && plainBf16(downProj)) {
            NDArray x = inputs.head();
            return new NDList(TorchOps.swigluBf16(x, weight(ps, gateProj, x, training), weight(ps, upProj, x, training),
                    weight(ps, downProj, x, training)));
        }
        // intermediates are closed as soon as they are used: autograd keeps what backward needs by its own
        // reference, and DJL would otherwise hold every (T, intermediate) array until the step's manager closes
        // silu(g) · up in one TorchScript call: SiLU as one operator each way, as transformers runs it (DJL composes it
        // from a sigmoid and a product, which also keeps the sigmoid's (B, T, I) output for backward)
        NDArray g = module("gate_proj").forward(ps, inputs, training).head();
        NDArray up = module("up_proj").forward(ps, inputs, training).head();
        NDArray product = TorchOps.siluMul(g, up);
        g.close();
        up.close();
        NDList out = module("down_proj").forward(ps, new NDList(product), training);
        product.close();
        return out;
    }

    private static boolean plainBf16(HfModule m) {
        return m.getClass() == HfLinear.class && ((HfLinear) m).bias() == null
                && ((HfLinear) m).weight().isInitialized() && TorchOps.isBf16(((HfLinear) m).weight().getArray());
    }

    private static NDArray weight(ParameterStore ps, HfModule linear, NDArray x, boolean training) {
        return ps.getValue(((HfLinear) linear).weight(), x.getDevice(), training);
    }
}
