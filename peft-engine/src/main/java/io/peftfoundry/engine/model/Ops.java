package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Autograd-safe scalar arithmetic. DJL's PyTorch {@code NDArray.mul(Number)} (and add/sub/div with a
 * Number) wraps the number in a tensor over a Java direct buffer and closes it right after the op;
 * autograd keeps that tensor for the backward pass, which then reads freed memory — gradients
 * come out wrong or NaN now and then. Inside anything differentiated, scale with these instead:
 * the constant is created by PyTorch ({@code full}), so autograd's reference keeps it alive.
 */
public final class Ops {

    private Ops() {}

    /** {@code x · s} */
    public static NDArray scale(NDArray x, double s) {
        try (NDArray c = x.getManager().full(new Shape(), (float) s, x.getDataType(), x.getDevice())) {
            return x.mul(c);
        }
    }

    /**
     * {@code parameter} as an array owned by {@code step} (same values, gradient flows back to the
     * parameter). DJL attaches an op's result to its first operand's manager, so ops that start
     * from a parameter's array would otherwise pile up in the parameter's long-lived manager and
     * never be freed: one step's worth of activations leaked per step.
     */
    public static NDArray onStep(NDArray parameter, NDManager step) {
        if (parameter.getManager() == step) {
            return parameter;
        }
        try (NDArray zero = step.zeros(new Shape(), parameter.getDataType(), parameter.getDevice())) {
            return zero.add(parameter);
        }
    }

    /**
     * {@code x} converted to {@code type} with the gradient flowing back through the conversion. DJL's
     * {@code NDArray.toType} runs under PyTorch's no-grad guard (its JNI {@code torchTo}), so a value cast with it
     * is cut off from autograd; copying into an array of the new type ({@code copy_} through indexed assignment)
     * converts and is differentiated — the gradient comes back in {@code x}'s type.
     */
    public static NDArray cast(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        NDArray out = x.getManager().create(x.getShape(), type, x.getDevice()); // uninitialised: every element set
        out.set(new NDIndex("..."), x);
        return out;
    }
}
