package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

/** SwiGLU: {@code down_proj(silu(gate_proj(x)) · up_proj(x))}, (B, T, H) → (B, T, H). */
public class LlamaMlp extends HfModule {

    public LlamaMlp(LlamaConfig c) {
        module("gate_proj", new HfLinear(c.hiddenSize(), c.intermediateSize(), c.mlpBias()));
        module("up_proj", new HfLinear(c.hiddenSize(), c.intermediateSize(), c.mlpBias()));
        module("down_proj", new HfLinear(c.intermediateSize(), c.hiddenSize(), c.mlpBias()));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        // intermediates are closed as soon as they are used: autograd keeps what backward needs by its own
        // reference, and DJL would otherwise hold every (T, intermediate) array until the step's manager closes
        NDArray g = module("gate_proj").forward(ps, inputs, training).head();
        NDArray sig = Activation.sigmoid(g);
        NDArray gate = g.mul(sig); // silu
        sig.close();
        g.close();
        NDArray up = module("up_proj").forward(ps, inputs, training).head();
        NDArray product = gate.mul(up);
        gate.close();
        up.close();
        NDList out = module("down_proj").forward(ps, new NDList(product), training);
        product.close();
        return out;
    }
}
