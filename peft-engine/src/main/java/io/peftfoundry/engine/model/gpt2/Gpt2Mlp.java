package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HostDropout;
import io.peftfoundry.engine.model.TorchOps;

/** {@code c_proj(act(c_fc(x)))}: (B, T, H) → (B, T, H); both Conv1D in HF, linears here (see {@link Gpt2Attention}). */
public class Gpt2Mlp extends HfModule {

    private final Gpt2Config config;

    public Gpt2Mlp(Gpt2Config c) {
        this.config = c;
        module("c_fc", new HfLinear(c.nEmbd(), c.nInner(), true));
        module("c_proj", new HfLinear(c.nInner(), c.nEmbd(), true));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        // intermediates closed once used: autograd keeps what backward needs by its own reference, and DJL would
        // otherwise hold every (B, T, 4H) array of the activation until the step's manager closes
        NDArray out;
        try (NDArray a = module("c_fc").forward(ps, inputs, training).head();
                NDArray g = config.activationFunction().equals("gelu") ? Activation.gelu(a)
                        : TorchOps.geluTanh(a)) { // gelu_new / gelu_pytorch_tanh: one PyTorch operator each way
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
