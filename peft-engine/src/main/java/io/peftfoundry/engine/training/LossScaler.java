package io.peftfoundry.engine.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;

import java.util.Map;

/**
 * Dynamic loss scaling for {@code precision: fp16}: gradients that flow back through float16 matrix products underflow
 * to zero below float16's smallest subnormal (6e-8), so the loss is multiplied by a scale S before backward and the
 * trainable (float32) gradients are divided by S before clipping and the optimizer. A step whose gradients are not all
 * finite (S made something overflow) is skipped — no update — and S is halved; after {@link #GROWTH_INTERVAL}
 * good steps in a row S is doubled. S starts at {@link #INITIAL_SCALE}. These are the defaults of PyTorch's
 * {@code torch.amp.GradScaler} (init_scale 2^16, growth_factor 2, backoff_factor 0.5, growth_interval 2000).
 * Disabled (S = 1, nothing ever skipped) at fp32.
 */
final class LossScaler {

    static final double INITIAL_SCALE = 65536.0;
    static final long GROWTH_INTERVAL = 2000;
    /** S never goes below this: a gradient that is non-finite even unscaled is a real divergence, not an overflow. */
    static final double MIN_SCALE = 1.0;

    private final boolean enabled;
    private double scale;
    private long goodSteps;
    private long skippedSteps;

    LossScaler(boolean enabled) {
        this.enabled = enabled;
        this.scale = enabled ? INITIAL_SCALE : 1.0;
    }

    boolean enabled() {
        return enabled;
    }

    /** The factor the loss is multiplied by before backward. */
    double scale() {
        return scale;
    }

    long goodSteps() {
        return goodSteps;
    }

    long skippedSteps() {
        return skippedSteps;
    }

    /** Continues from a checkpoint's scaler state (a checkpoint without one, or an fp32 run's, starts afresh). */
    void restore(double savedScale, long savedGoodSteps, long savedSkipped) {
        if (enabled && savedScale >= MIN_SCALE && Double.isFinite(savedScale)) {
            scale = savedScale;
            goodSteps = savedGoodSteps;
        }
        skippedSteps = savedSkipped;
    }

    /**
     * Divides every trainable gradient by S and tells whether all are finite. When not, the gradients are left as
     * they are (the caller zeroes them without an update), S is halved and the step counts as skipped; when they are,
     * S doubles after {@link #GROWTH_INTERVAL} finite steps in a row. At fp32 this does nothing and returns true.
     */
    boolean unscaleAndCheck(Map<String, Parameter> params, long step) {
        if (!enabled || params.isEmpty()) {
            return true;
        }
        boolean finite;
        try (NDManager tmp = params.values().iterator().next().getArray().getManager().newSubManager()) {
            NDList flags = new NDList(params.size());
            for (Parameter p : params.values()) {
                NDArray g = p.getArray().getGradient();
                g.attach(tmp);
                NDArray bad = g.isInfinite().logicalOr(g.isNaN()).any();
                bad.attach(tmp);
                flags.add(bad);
            }
            NDArray any = NDArrays.stack(flags).any(); // one host round trip per step
            any.attach(tmp);
            finite = !any.getBoolean();
        }
        if (!finite) {
            scale = Math.max(MIN_SCALE, scale / 2);
            goodSteps = 0;
            skippedSteps++;
            return false;
        }
        double inverse = 1.0 / scale;
        for (Parameter p : params.values()) {
            try (NDArray g = p.getArray().getGradient()) {
                g.muli(inverse);
            }
        }
        goodSteps++;
        if (goodSteps >= GROWTH_INTERVAL) {
            scale *= 2;
            goodSteps = 0;
        }
        return true;
    }

}
