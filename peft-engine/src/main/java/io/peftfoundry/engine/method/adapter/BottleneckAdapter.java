package io.peftfoundry.engine.method.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;

/**
 * One bottleneck adapter, children named as AdapterHub's: {@code adapter_down.0} (hidden → bottleneck,
 * an nn.Sequential whose index 1 is the activation) and {@code adapter_up} (bottleneck → hidden).
 * Installed with {@code BertSublayerOutput.setAdapter}: NDList(projected p (B,T,H), residual r (B,T,H))
 * → p' (B,T,H), per {@link AdapterConfig}'s variant. {@code f(x) = up(act(down(x)))}.
 */
public class BottleneckAdapter extends HfModule {

    private final AdapterConfig.Variant variant;
    private final String activation;
    private final double scaling;
    private final HfLinear down;
    private final HfLinear up;
    /**
     * Pfeiffer reads LN(p + r) through the sublayer's own (frozen) LayerNorm (post-norm encoders); not a child, so not
     * a parameter of the adapter. Null in pre-norm decoder blocks, where it reads p.
     */
    private final HfModule sublayerNorm;

    public BottleneckAdapter(int hidden, int bottleneck, AdapterConfig config, HfModule sublayerNorm) {
        this.variant = config.variant();
        this.activation = config.activation();
        this.scaling = config.scaling();
        this.sublayerNorm = sublayerNorm;
        // Type OTHER: no global WEIGHT initializer may overwrite the zero up-projection
        this.down = module("adapter_down", new Sequential()).add(new HfLinear(hidden, bottleneck, true, Parameter.Type.OTHER));
        this.up = module("adapter_up", new HfLinear(bottleneck, hidden, true, Parameter.Type.OTHER));
    }

    public HfLinear down() {
        return down;
    }

    public HfLinear up() {
        return up;
    }

    /** {@code s · up(act(down(x)))}. */
    NDArray bottleneck(ParameterStore ps, NDArray x, boolean training) {
        NDArray h = down.forward(ps, new NDList(x), training).head();
        h = switch (activation) {
            case "relu" -> Activation.relu(h);
            case "gelu" -> Activation.gelu(h);
            case "swish" -> h.mul(Activation.sigmoid(h)); // swish with β = 1, i.e. SiLU
            case "tanh" -> h.tanh();
            default -> throw new IllegalStateException("activation " + activation);
        };
        NDArray out = up.forward(ps, new NDList(h), training).head();
        return scaling == 1.0 ? out : Ops.scale(out, scaling); // not mul(Number): see Ops
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray p = inputs.get(0);
        NDArray r = inputs.get(1);
        NDArray x = switch (variant) {
            case HOULSBY -> p;
            // pre-norm decoder blocks have no LayerNorm after the residual: the adapter reads p there
            case PFEIFFER -> sublayerNorm == null ? p : sublayerNorm.forward(ps, new NDList(p.add(r)), training).head();
            case PARALLEL -> r;
        };
        return new NDList(p.add(bottleneck(ps, x, training)));
    }

    /** PyTorch's nn.Sequential naming ("0", "1", …) for the down-projection; only index 0 holds weights. */
    static final class Sequential extends HfModule {
        HfLinear add(HfLinear first) {
            return module("0", first);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            return module("0").forward(ps, inputs, training);
        }
    }
}
