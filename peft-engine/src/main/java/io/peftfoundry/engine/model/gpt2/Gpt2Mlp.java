package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HostDropout;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.model.TorchOps;

/** {@code c_proj(act(c_fc(x)))}: (B, T, H) → (B, T, H); both Conv1D in HF, linears here (see {@link Gpt2Attention}). */
public class Gpt2Mlp extends HfModule {

    private final Gpt2Config config;

    public Gpt2Mlp(Gpt2Config c) {
        this.config = c;
        module("c_fc", new HfLinear(c.nEmbd(), c.nInner(), true));
        module("c_proj", new HfLinear(c.nInner(), c.nEmbd(), true));
    }

    /**
     * transformers' {@code gelu_new} and {@code gelu_pytorch_tanh}: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as
     * PyTorch's one {@code gelu(approximate="tanh")} operator each way ({@link TorchOps#geluTanh}).
     */
    static NDArray geluTanh(NDArray x) {
        return TorchOps.geluTanh(x);
    }

    /** The same function composed from NDArray ops as transformers' {@code gelu_new} writes it (tests compare the two). */
    static NDArray geluTanhComposed(NDArray x) {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), each temporary closed once used
        try (NDArray x2 = x.mul(x); NDArray x3 = x2.mul(x); NDArray c = Ops.scale(x3, 0.044715); NDArray s = x.add(c);
                NDArray inner = Ops.scale(s, Math.sqrt(2.0 / Math.PI)); NDArray th = inner.tanh(); NDArray p = plusOne(th);
                NDArray xp = x.mul(p)) {
            return Ops.scale(xp, 0.5);
        }
    }

    /** {@code x + 1} with a PyTorch-created constant (autograd-safe, see {@link Ops}). */
    private static NDArray plusOne(NDArray x) {
        try (NDArray one = x.getManager().ones(new ai.djl.ndarray.types.Shape(), x.getDataType(), x.getDevice())) {
            return x.add(one);
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        // intermediates closed once used: autograd keeps what backward needs by its own reference, and DJL would
        // otherwise hold every (B, T, 4H) array of the activation until the step's manager closes
        NDArray out;
        try (NDArray a = module("c_fc").forward(ps, inputs, training).head();
                NDArray g = config.activationFunction().equals("gelu") ? Activation.gelu(a) : geluTanh(a)) {
            out = module("c_proj").forward(ps, new NDList(g), training).head();
        }
        if (training && config.residPdrop() > 0) {
            NDArray dropped = HostDropout.apply(out, config.residPdrop());
            out.close();
            out = dropped;
        }
        return new NDList(out);
    }
}
