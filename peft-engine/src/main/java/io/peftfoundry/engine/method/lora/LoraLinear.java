package io.peftfoundry.engine.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.HostDropout;
import io.peftfoundry.engine.model.Ops;

/**
 * A frozen linear layer plus a low-rank update: {@code y = base(x) + scaling · B(A(dropout(x)))},
 * A (r, in), B (out, r). Children named as PEFT's state dict: {@code base_layer}, {@code lora_A}, {@code lora_B}.
 * (..., in) → (..., out). When merged, {@code W += scaling · B·A} and the low-rank path is skipped.
 */
public class LoraLinear extends HfModule {

    private final HfLinear base;
    private final HfLinear loraA;
    private final HfLinear loraB;
    private final double scaling;
    private final float dropout;
    private boolean merged;

    public LoraLinear(HfLinear base, int r, double scaling, double dropout) {
        this.base = module("base_layer", base);
        // Type OTHER: LoRA weights must never be touched by a global WEIGHT initializer (B starts at 0).
        this.loraA = module("lora_A", new HfLinear(base.inFeatures(), r, false, Parameter.Type.OTHER));
        this.loraB = module("lora_B", new HfLinear(r, base.outFeatures(), false, Parameter.Type.OTHER));
        this.scaling = scaling;
        this.dropout = (float) dropout;
    }

    public HfLinear base() {
        return base;
    }

    public Parameter loraA() {
        return loraA.weight();
    }

    public Parameter loraB() {
        return loraB.weight();
    }

    public double scaling() {
        return scaling;
    }

    public boolean isMerged() {
        return merged;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray y = base.forward(ps, inputs, training).head();
        if (merged) {
            return new NDList(y);
        }
        NDArray xin = training && dropout > 0 ? HostDropout.apply(x, dropout) : x;
        // scaling · B(A(x)) computed as B(scaling · A(x)): the same product, the scale applied to the (..., r) array
        // instead of the (..., out) one. Intermediates closed once used (autograd keeps what backward needs).
        try (y; NDArray a = loraA.forward(ps, new NDList(xin), training).head();
                NDArray scaled = Ops.scale(a, scaling);
                NDArray low = loraB.forward(ps, new NDList(scaled), training).head()) {
            if (xin != x) {
                xin.close();
            }
            return new NDList(y.add(low));
        }
    }

    /** The dense update {@code scaling · B·A}, shape (out, in). */
    public NDArray delta() {
        return loraB.weight().getArray().matMul(loraA.weight().getArray()).mul(scaling);
    }

    /** Adds the update into the base weight (no autograd: runs outside any GradientCollector). */
    public void merge() {
        if (!merged) {
            base.weight().getArray().addi(delta());
            merged = true;
        }
    }

    public void unmerge() {
        if (merged) {
            base.weight().getArray().subi(delta());
            merged = false;
        }
    }
}
