package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;

/** {@code c_proj(act(c_fc(x)))}: (B, T, H) → (B, T, H); both Conv1D in HF, linears here (see {@link Gpt2Attention}). */
public class Gpt2Mlp extends HfModule {

    private final Gpt2Config config;

    public Gpt2Mlp(Gpt2Config c) {
        this.config = c;
        module("c_fc", new HfLinear(c.nEmbd(), c.nInner(), true));
        module("c_proj", new HfLinear(c.nInner(), c.nEmbd(), true));
    }

    /** transformers' {@code gelu_new}: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    static NDArray geluTanh(NDArray x) {
        NDArray inner = Ops.scale(x.add(Ops.scale(x.mul(x).mul(x), 0.044715)), Math.sqrt(2.0 / Math.PI));
        return Ops.scale(x.mul(plusOne(inner.tanh())), 0.5);
    }

    /** {@code x + 1} with a PyTorch-created constant (autograd-safe, see {@link Ops}). */
    private static NDArray plusOne(NDArray x) {
        try (NDArray one = x.getManager().ones(new ai.djl.ndarray.types.Shape(), x.getDataType(), x.getDevice())) {
            return x.add(one);
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray a = module("c_fc").forward(ps, inputs, training).head();
        a = config.activationFunction().equals("gelu") ? Activation.gelu(a) : geluTanh(a);
        NDArray out = module("c_proj").forward(ps, new NDList(a), training).head();
        if (training && config.residPdrop() > 0) {
            out = Dropout.dropout(out, config.residPdrop(), true).head();
        }
        return new NDList(out);
    }
}
