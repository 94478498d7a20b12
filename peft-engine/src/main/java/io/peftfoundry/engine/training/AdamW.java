package io.peftfoundry.engine.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
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

    /** One update of every parameter with a gradient; {@code decay.get(name)} says if weight decay applies. */
    public void step(Map<String, Parameter> params, double lr, double weightDecay, java.util.function.Predicate<String> decay) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray w = e.getValue().getArray();
            try (NDManager tmp = w.getManager().newSubManager(); NDArray g = w.getGradient()) {
                NDArray mi = m.computeIfAbsent(e.getKey(), k -> w.zerosLike());
                NDArray vi = v.computeIfAbsent(e.getKey(), k -> w.zerosLike());
                if (weightDecay > 0 && decay.test(e.getKey())) {
                    w.muli(1 - lr * weightDecay);
                }
                NDArray g1 = g.mul(1 - beta1);
                g1.attach(tmp);
                mi.muli(beta1).addi(g1);
                NDArray g2 = g.square();
                g2.attach(tmp);
                g2.muli(1 - beta2);
                vi.muli(beta2).addi(g2);
                NDArray vhat = vi.div(bc2);
                vhat.attach(tmp);
                NDArray denom = vhat.sqrt();
                denom.attach(tmp);
                denom.addi(eps);
                NDArray upd = mi.div(denom);
                upd.attach(tmp);
                upd.muli(lr / bc1);
                w.subi(upd);
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
