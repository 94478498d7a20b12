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

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The LLaMA attention through PyTorch's fused scaled-dot-product attention (the default) computes what the eager
 * softmax(q kᵀ/√d + mask) v computes: on a float32 model with grouped-query heads and a padded batch, the logits
 * agree within 1e-5 and the gradients of attention and MLP weights within 1e-5 of their largest element (float32
 * sums in a different order: the fused kernel accumulates block by block with an online softmax).
 */
class LlamaSdpaTest {

    private static void useSdpa(LlamaForCausalLM model, boolean on) {
        model.forEachModule((name, module) -> {
            if (module instanceof LlamaAttention a) {
                a.useSdpa(on);
            }
        });
    }

    private record Pass(float[] logits, Map<String, float[]> gradients) {}

    private static Pass run(LlamaForCausalLM model, NDManager m, List<String> params, boolean sdpa) {
        useSdpa(model, sdpa);
        try (NDManager step = m.newSubManager()) {
            // second row left-padded by two: its masked keys must get exactly zero weight in both paths
            NDArray ids = step.create(new long[] {3, 7, 1, 12, 5, 9, 0, 0, 2, 8, 4, 6, 11, 13}, new Shape(2, 7));
            NDArray mask = step.create(new long[] {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, new Shape(2, 7));
            Random rnd = new Random(5);
            float[] w = new float[2 * 7 * 20];
            for (int i = 0; i < w.length; i++) {
                // the loss weighs real tokens only, as training's does (padded labels are masked): a padded query has
                // every key masked, and its gradient is then rounding noise that -1e9 swamped (float32), different
                // in each path (measured: eager and fused dq differ by ~10 there and by 5e-7 on real rows)
                boolean padded = i / 20 == 7 || i / 20 == 8;
                w[i] = padded ? 0f : (float) rnd.nextGaussian();
            }
            NDArray weights = step.create(w, new Shape(2, 7, 20));
            float[] logits;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = model.forward(new ParameterStore(step, false), new NDList(ids, mask), true).head();
                logits = out.toFloatArray();
                gc.backward(out.tanh().mul(weights).sum());
            }
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (String k : params) {
                NDArray g = model.namedParameters().get(k).getArray().getGradient();
                grads.put(k, g.toFloatArray());
                g.subi(g); // zero it for the next pass (gradients accumulate)
            }
            return new Pass(logits, grads);
        }
    }

    @Test
    void sdpaEqualsEagerAttentionInLogitsAndGradientsOnAPaddedBatchWithGroupedHeads() {
        try (NDManager m = NDManager.newBaseManager()) {
            // vocab 20, hidden 16, MLP 24, 2 layers, 4 query heads sharing 2 key/value heads
            LlamaConfig c = new LlamaConfig(20, 16, 24, 2, 4, 2, 2, 16, 1e-6f, 10000.0, false, false, false, 19, 19);
            LlamaForCausalLM model = LlamaCheckpoint.random(c, m, 3, DataType.FLOAT32);
            Random rnd = new Random(4);
            model.namedParameters().forEach((k, p) -> {
                // weights of 0.4 rather than 0.02: attention far from uniform, so a wrong weighting shows
                float[] v = p.getArray().toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (k.contains("norm") ? 1 + 0.3 * rnd.nextGaussian() : 0.4 * rnd.nextGaussian());
                }
                HfModule.assign(p, m.create(v, p.getArray().getShape()));
            });
            List<String> checked = List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                    "model.layers.0.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                    "model.layers.1.mlp.up_proj.weight");
            for (String k : checked) {
                Parameter p = model.namedParameters().get(k);
                p.freeze(false);
                p.getArray().setRequiresGradient(true);
            }
            Pass eager = run(model, m, checked, false);
            Pass sdpa = run(model, m, checked, true);
            assertEquals(2 * 7 * 20, sdpa.logits().length);
            assertArrayEquals(eager.logits(), sdpa.logits(), 1e-5f, "logits");
            for (String k : checked) {
                float[] e = eager.gradients().get(k);
                float max = 0;
                for (float x : e) {
                    max = Math.max(max, Math.abs(x));
                }
                assertEquals(true, max > 1e-3, k + ": the gradient reached it");
                // relative to the gradient's largest element (here 1-20): ~100 float32 ulps of it
                assertArrayEquals(e, sdpa.gradients().get(k), 1e-5f * Math.max(1f, max), k + " (max |g| " + max + ")");
            }
        }
    }
}
