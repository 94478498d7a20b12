package io.peftfoundry.engine.method.ia3;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

/**
 * A frozen linear layer with a learned scaling vector {@code ia3_l}, named and shaped as PEFT's:
 * feed-forward {@code y = base(x ⊙ l)} with l (1, in); otherwise {@code y = base(x) ⊙ l} with l (out, 1).
 * (..., in) → (..., out). Child {@code base_layer} is the original layer. Merged: the scaling is
 * folded into W (columns for feed-forward, rows and bias otherwise) and skipped in the forward pass.
 */
public class Ia3Linear extends HfModule {

    private final HfLinear base;
    private final Parameter scale;
    private final boolean feedforward;
    private boolean merged;

    public Ia3Linear(HfLinear base, boolean feedforward) {
        this.base = module("base_layer", base);
        // Type OTHER: no WEIGHT initializer may touch the scales (they start at exactly 1)
        this.scale = param("ia3_l", Parameter.Type.OTHER);
        this.feedforward = feedforward;
    }

    public HfLinear base() {
        return base;
    }

    public Parameter scale() {
        return scale;
    }

    public boolean isFeedforward() {
        return feedforward;
    }

    public boolean isMerged() {
        return merged;
    }

    /** PEFT's shape of {@code ia3_l}: (1, in) for feed-forward layers, (out, 1) otherwise. */
    public long[] scaleShape() {
        return feedforward ? new long[] {1, base.inFeatures()} : new long[] {base.outFeatures(), 1};
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        if (merged) {
            return base.forward(ps, inputs, training);
        }
        NDArray l = ps.getValue(scale, x.getDevice(), training).flatten(); // (in) or (out): broadcasts over the last axis
        if (feedforward) {
            return base.forward(ps, new NDList(x.mul(l)), training);
        }
        return new NDList(base.forward(ps, inputs, training).head().mul(l));
    }

    /** Folds the scaling into the base weights (no autograd: call outside a GradientCollector). */
    public void merge() {
        if (merged) {
            return;
        }
        NDArray l = scale.getArray();
        base.weight().getArray().muli(l); // (out, in) ⊙ (1, in) scales columns, ⊙ (out, 1) scales rows
        if (!feedforward && base.bias() != null) {
            base.bias().getArray().muli(l.flatten());
        }
        merged = true;
    }

    /** Divides the scaling back out (exact up to float rounding while no scale is near 0). */
    public void unmerge() {
        if (!merged) {
            return;
        }
        NDArray l = scale.getArray();
        base.weight().getArray().divi(l);
        if (!feedforward && base.bias() != null) {
            base.bias().getArray().divi(l.flatten());
        }
        merged = false;
    }
}
