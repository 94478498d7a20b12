package io.peftfoundry.engine.model.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.model.HfModule;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Backward pass of the LLaMA decoder (RMSNorm, rotary embedding, grouped-query attention, SwiGLU) against
 * central finite differences in float64. Between the forward and the backward pass many small arrays are
 * made from Java buffers and freed, so that a constant the graph holds without owning it (an op with a Java
 * Number, see Ops) would be overwritten and show up as a wrong gradient.
 */
class LlamaGradientTest {

    @Test
    void gradientsMatchFiniteDifferencesInDoublePrecision() {
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaConfig c = new LlamaConfig(20, 8, 12, 2, 4, 2, 2, 16, 1e-6f, 10000.0, false, false, false, 19, 19);
            LlamaForCausalLM model = LlamaCheckpoint.random(c, m, 3, DataType.FLOAT64);
            Random rnd = new Random(4);
            model.namedParameters().forEach((k, p) -> {
                // wider weights than 0.02 and norm weights away from 1: every term of the gradient matters
                double[] v = p.getArray().toDoubleArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] = k.contains("norm") ? 1 + 0.3 * rnd.nextGaussian() : 0.4 * rnd.nextGaussian();
                }
                HfModule.assign(p, m.create(v, p.getArray().getShape()));
            });
            List<String> checked = List.of("model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                    "model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.gate_proj.weight", "model.norm.weight");
            for (String k : checked) {
                model.namedParameters().get(k).freeze(false);
            }
            NDArray ids = m.create(new long[] {3, 7, 1, 12, 5, 9, 2, 0}, new Shape(2, 4));
            double[] weights = new double[2 * 4 * 20];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = rnd.nextGaussian();
            }
            NDArray w = m.create(weights, new Shape(2, 4, 20));
            ParameterStore ps = new ParameterStore(m, false);
            // L = sum(w ⊙ tanh(logits)): non-linear, so second-order mistakes in a gradient show
            Supplier<NDArray> loss = () -> model.forward(ps, new NDList(ids, null), true).head().tanh().mul(w).sum();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = loss.get();
                for (int i = 0; i < 2000; i++) {
                    m.create(new double[] {-7.0 * i, 3.0, 11.0, -5.0}).close();
                }
                gc.backward(l);
            }
            for (String k : checked) {
                Parameter p = model.namedParameters().get(k);
                double[] analytic = p.getArray().getGradient().toDoubleArray();
                double[] v = p.getArray().toDoubleArray();
                double h = 1e-6;
                for (int i = 0; i < Math.min(v.length, 12); i++) {
                    double[] plus = v.clone();
                    plus[i] += h;
                    double[] minus = v.clone();
                    minus[i] -= h;
                    HfModule.assign(p, m.create(plus, p.getArray().getShape()));
                    double lp = loss.get().getDouble();
                    HfModule.assign(p, m.create(minus, p.getArray().getShape()));
                    double lm = loss.get().getDouble();
                    HfModule.assign(p, m.create(v, p.getArray().getShape()));
                    // central differences in float64: error O(h²) + O(1e-16/h), about 1e-9 at these magnitudes
                    assertEquals((lp - lm) / (2 * h), analytic[i], 1e-6, k + "[" + i + "]");
                }
            }
        }
    }
}
