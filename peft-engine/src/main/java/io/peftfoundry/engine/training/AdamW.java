package io.peftfoundry.engine.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.peftfoundry.engine.io.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov &amp; Hutter) on NDArrays, as PyTorch's {@code torch.optim.AdamW}:
 * {@code w ← w·(1 − lr·wd)}, then {@code m ← β1 m + (1−β1) g}, {@code v ← β2 v + (1−β2) g²},
 * {@code w ← w − lr · m̂ / (√v̂ + ε)} with bias-corrected m̂, v̂. Moments are kept per parameter name
 * so they can be checkpointed. Runs outside any GradientCollector (no autograd).
 */
public final class AdamW {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long t;

    public AdamW() {
        this(0.9, 0.999, 1e-8);
    }

    public AdamW(double beta1, double beta2, double eps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    public long stepCount() {
        return t;
    }

    /**
     * One update of every parameter with a gradient; {@code decay.get(name)} says if weight decay applies.
     *
     * <p>Each parameter is updated by DJL's fused native Adam kernel ({@code JniUtils.adamUpdate}: in-place moment
     * updates, one JNI call per parameter) rather than a dozen NDArray ops each with a full-size temporary and a
     * scalar copied from the Java heap. That kernel computes {@code w ← w − c·m / (√v + ε')}; with
     * {@code c = lr·√(1−β2ᵗ)/(1−β1ᵗ)} and {@code ε' = ε·√(1−β2ᵗ)} this is exactly PyTorch's
     * {@code w − lr·m̂ / (√v̂ + ε)} (multiply numerator and denominator by √(1−β2ᵗ)); its decoupled decay
     * ({@code adamw = true}) is {@code w ← w − w·lr·wd}, PyTorch's {@code w·(1 − lr·wd)}.
     */
    public void step(Map<String, Parameter> params, double lr, double weightDecay, java.util.function.Predicate<String> decay) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, t));
        float stepSize = (float) (lr * sqrtBc2 / bc1);
        float epsilon = (float) (eps * sqrtBc2);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray w = e.getValue().getArray();
            NDArray mi = m.computeIfAbsent(e.getKey(), k -> w.zerosLike());
            NDArray vi = v.computeIfAbsent(e.getKey(), k -> w.zerosLike());
            float wd = weightDecay > 0 && decay.test(e.getKey()) ? (float) weightDecay : 0f;
            // Without decay the kernel's coupled form is used: it adds 0·w to its copy of the gradient (one pass), where
            // the decoupled form would still compute w·lr·0 in two full-size temporaries and subtract it (three passes)
            boolean decoupled = wd != 0f;
            try (NDArray g = w.getGradient()) {
                JniUtils.adamUpdate((PtNDArray) w, (PtNDArray) g, (PtNDArray) mi, (PtNDArray) vi, (float) lr, stepSize, wd,
                        1f, -1f, (float) beta1, (float) beta2, epsilon, decoupled);
            }
        }
    }

    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((k, a) -> out.put(k + ".exp_avg", Tensor.of(a)));
        v.forEach((k, a) -> out.put(k + ".exp_avg_sq", Tensor.of(a)));
        return out;
    }

    public void load(Map<String, Tensor> state, long steps, Map<String, Parameter> params, NDManager manager) {
        t = steps;
        m.clear();
        v.clear();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Tensor a = state.get(e.getKey() + ".exp_avg");
            Tensor b = state.get(e.getKey() + ".exp_avg_sq");
            if (a == null || b == null) {
                throw new IllegalArgumentException("optimizer state lacks moments for '" + e.getKey() + "'");
            }
            var dt = e.getValue().getArray().getDataType();
            m.put(e.getKey(), a.toNDArray(manager, dt).duplicate());
            v.put(e.getKey(), b.toNDArray(manager, dt).duplicate());
        }
    }
}
