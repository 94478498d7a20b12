package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small helpers the method injectors share: giving new parameters values, and strict state-dict loading. */
public final class MethodTensors {

    private MethodTensors() {}

    /** Makes {@code p} trainable and gives it {@code value} in the dtype and on the device of {@code like}. */
    public static void assignNew(Parameter p, NDArray value, NDArray like) {
        p.freeze(false);
        HfModule.assign(p, value.toType(HfModule.trainableType(like), false).toDevice(like.getDevice(), false));
    }

    /** Uniform(-bound, bound) values, drawn in order from {@code rnd}. */
    public static NDArray uniform(NDManager m, Random rnd, double bound, long... shape) {
        float[] v = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
        return m.create(v, new Shape(shape));
    }

    /** Normal(0, std) values, drawn in order from {@code rnd}. */
    public static NDArray normal(NDManager m, Random rnd, double std, long... shape) {
        float[] v = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * std);
        }
        return m.create(v, new Shape(shape));
    }

    /** Current values of {@code params} as tensors, keyed as given. */
    public static Map<String, Tensor> snapshot(Map<String, Parameter> params) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        params.forEach((k, p) -> out.put(k, Tensor.of(p.getArray())));
        return out;
    }

    /**
     * Copies {@code tensors} into {@code params} (same keys). Extra, missing or mis-shaped tensors fail
     * with the key and what this backbone expects; nothing is assigned unless everything matches.
     */
    public static void load(Map<String, Parameter> params, Map<String, Tensor> tensors, NDManager manager, String method)
            throws IOException {
        for (String k : tensors.keySet()) {
            if (!params.containsKey(k)) {
                throw new IOException("adapter tensor '" + k + "' has no matching " + method
                        + " parameter in this backbone (the adapter was trained for another model or configuration)");
            }
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new IOException("adapter is missing tensor '" + e.getKey() + "'");
            }
            long[] expected = e.getValue().getArray().getShape().getShape();
            if (!Arrays.equals(expected, t.shape())) {
                throw new IOException("adapter tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + " but this backbone needs " + Arrays.toString(expected)
                        + " (hidden size, layer count or " + method + " settings do not match)");
            }
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray cur = e.getValue().getArray();
            HfModule.assign(e.getValue(), tensors.get(e.getKey()).toNDArray(manager, cur.getDataType()));
        }
    }
}
