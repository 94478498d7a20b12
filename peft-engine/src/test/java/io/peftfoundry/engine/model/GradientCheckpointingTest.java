package io.peftfoundry.engine.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.adapter.AdapterConfig;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.method.ia3.Ia3Config;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.method.prompt.PromptConfig;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalLmLoss;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.SftEncoder;
import io.peftfoundry.engine.task.causal.TokenSequence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradient checkpointing changes memory, not results: on tiny GPT-2 and LLaMA decoders (no dropout) with every
 * method, the loss and every trainable gradient with checkpointing equal those without; and with dropout, the
 * checkpointed gradient is the gradient of the loss the checkpointed forward computed (the recompute replays the
 * dropout masks), checked against central finite differences.
 */
class GradientCheckpointingTest {

    static final Gpt2Config GPT2 = Gpt2Config.tiny(30, 16, 3, 2, 24);
    /** 4 query heads sharing 2 key/value heads. */
    static final LlamaConfig LLAMA = LlamaConfig.tiny(30, 16, 3, 4, 2, 24, false);

    static Stream<Arguments> cases() {
        List<MethodConfig> methods = List.of(
                new FullFineTune.Config(),
                AdapterConfig.of(AdapterConfig.Variant.HOULSBY, 4, "relu"),
                new PrefixConfig(4, 32, true),
                new PromptConfig(4, PromptConfig.Init.VOCAB),
                new Ia3Config(List.of("c_attn", "mlp.c_proj"), List.of("mlp.c_proj")));
        List<Arguments> out = new ArrayList<>();
        for (MethodConfig m : methods) {
            out.add(Arguments.of("gpt2", m));
            out.add(Arguments.of("llama", m instanceof Ia3Config
                    ? new Ia3Config(List.of("k_proj", "v_proj", "down_proj"), List.of("down_proj")) : m));
        }
        out.add(Arguments.of("gpt2", new LoraConfig(4, 8, 0.0, List.of("c_attn", "c_fc", "mlp.c_proj"), false)));
        out.add(Arguments.of("llama", new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj", "gate_proj", "down_proj"), false)));
        return out.stream();
    }

    /** The loss of one micro-batch and the gradient of every trainable parameter. */
    record Pass(double loss, Map<String, float[]> gradients) {}

    static final List<TokenSequence> DATA = List.of(
            SftEncoder.encode(new long[] {3, 4, 5}, new long[] {10, 11, 12}, 29, 12),
            SftEncoder.encode(new long[] {6, 7}, new long[] {20, 21, 22, 23}, 29, 12));

    static CausalModel model(String arch, Gpt2Config gpt2, MethodConfig method, NDManager m) {
        CausalDecoder d = arch.equals("gpt2") ? Gpt2Checkpoint.random(gpt2, m, 5, DataType.FLOAT32)
                : LlamaCheckpoint.random(LLAMA, m, 5, DataType.FLOAT32);
        // weights 8× the 0.02 initialiser, so that every layer and virtual token moves the loss noticeably
        ((HfModule) d).namedParameters().forEach((k, p) -> {
            if (!k.contains("norm") && !k.contains(".ln_")) {
                HfModule.assign(p, p.getArray().mul(8));
            }
        });
        CausalModel model = CausalModel.create(d, method, m, 3);
        perturb(model.method(), m, 11, 0.05); // LoRA's B and the adapters' up projections start at zero
        return model;
    }

    static void perturb(InjectedMethod method, NDManager m, long seed, double std) {
        Random r = new Random(seed);
        for (Parameter p : method.trainableParameters().values()) {
            NDArray a = p.getArray();
            double[] v = a.toType(DataType.FLOAT64, false).toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += r.nextGaussian() * std;
            }
            HfModule.assign(p, m.create(v, a.getShape()).toType(a.getDataType(), false));
        }
    }

    /** One forward and backward with the engine RNG seeded; with {@code checkpointed}, every layer is checkpointed. */
    static Pass pass(CausalModel model, NDManager m, boolean checkpointed, boolean backward, int layers) {
        CausalBatch b = CausalBatch.of(DATA, model.padId());
        try (NDManager sub = m.newSubManager()) {
            NDList in = new NDList(CausalBatch.create(sub, b.ids()), CausalBatch.create(sub, b.mask()));
            Engine.getInstance().setRandomSeed(1234);
            double loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                GradientCheckpointing checkpointing = checkpointed ? new GradientCheckpointing(sub) : null;
                NDArray logits = checkpointed ? model.logits(in, checkpointing) : model.logits(in, true);
                NDArray l = CausalLmLoss.compute(logits, b.ids(), b.targets()).mean();
                loss = l.getFloat();
                if (checkpointed) {
                    // the decoder really checkpointed every layer (so the comparison below is not of two plain runs)
                    assertEquals(layers, checkpointing.checkpointedLayers());
                }
                if (backward) {
                    if (checkpointed) {
                        checkpointing.backward(gc, l);
                    } else {
                        gc.backward(l);
                    }
                }
            }
            Map<String, float[]> grads = new LinkedHashMap<>();
            if (backward) {
                model.trainableParameters().forEach((k, p) -> {
                    try (NDArray g = p.getArray().getGradient()) {
                        grads.put(k, g.toType(DataType.FLOAT32, false).toFloatArray());
                        g.subi(g); // zero for the next pass
                    }
                });
            }
            return new Pass(loss, grads);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void checkpointedLossAndGradientsEqualThoseWithout(String arch, MethodConfig method) {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalModel model = model(arch, GPT2, method, m);
            Pass plain = pass(model, m, false, true, 3);
            Pass checkpointed = pass(model, m, true, true, 3);
            assertEquals(plain.loss(), checkpointed.loss(), 1e-6 * Math.abs(plain.loss()), "loss");
            assertEquals(plain.gradients().keySet(), checkpointed.gradients().keySet());
            double largest = 0;
            for (float[] g : plain.gradients().values()) {
                for (float v : g) {
                    largest = Math.max(largest, Math.abs(v));
                }
            }
            assertTrue(largest > 1e-4, "the gradients are not all (near) zero: " + largest);
            // the same float32 operations on the same inputs; only the order in which a few sums are accumulated
            // (a tied or shared weight's uses, the residual stream) may differ: a few ulps of the largest value
            double tolerance = 1e-5 * largest;
            for (Map.Entry<String, float[]> e : plain.gradients().entrySet()) {
                float[] a = e.getValue();
                float[] c = checkpointed.gradients().get(e.getKey());
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], c[i], tolerance, e.getKey() + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void withDropoutTheGradientIsThatOfTheCheckpointedForward() {
        Gpt2Config dropout = new Gpt2Config(30, 24, 16, 3, 2, 64, "gelu_new", 0.3f, 0.3f, 0.3f, 1e-5f, 29, 29);
        try (NDManager m = NDManager.newBaseManager()) {
            CausalModel model = model("gpt2", dropout, new LoraConfig(4, 8, 0.3, List.of("c_attn", "c_fc"), false), m);
            Pass g = pass(model, m, true, true, 3);
            // the same engine seed gives the same loss: the masks repeat, so f below is one function of the parameters
            double again = pass(model, m, true, false, 3).loss();
            assertEquals(g.loss(), again, 0.0);
            // central difference along a random direction d of the trainable parameters: (f(θ+εd) − f(θ−εd)) / 2ε ≈ ∇f·d
            Random r = new Random(99);
            Map<String, double[]> d = new LinkedHashMap<>();
            double directional = 0;
            for (Map.Entry<String, float[]> e : g.gradients().entrySet()) {
                double[] v = new double[e.getValue().length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = r.nextGaussian();
                    directional += v[i] * e.getValue()[i];
                }
                d.put(e.getKey(), v);
            }
            double eps = 1e-3;
            shift(model, d, eps, m);
            double up = pass(model, m, true, false, 3).loss();
            shift(model, d, -2 * eps, m);
            double down = pass(model, m, true, false, 3).loss();
            shift(model, d, eps, m);
            double numeric = (up - down) / (2 * eps);
            // float32 losses (~3.4) carry ~3e-7 rounding, i.e. ~3e-4 in the difference quotient; O(ε²) curvature terms
            // are smaller still. A recompute with other masks than the forward's gives a different function (off by
            // tens of percent here)
            assertTrue(Math.abs(directional) > 0.05, "a directional derivative worth checking: " + directional);
            assertEquals(directional, numeric, 0.01 * Math.abs(directional) + 1e-3,
                    "checkpointed gradient · d vs the central difference of the checkpointed loss");
        }
    }

    private static void shift(CausalModel model, Map<String, double[]> d, double by, NDManager m) {
        model.trainableParameters().forEach((k, p) -> {
            NDArray a = p.getArray();
            double[] v = a.toType(DataType.FLOAT64, false).toDoubleArray();
            double[] step = d.get(k);
            for (int i = 0; i < v.length; i++) {
                v[i] += by * step[i];
            }
            HfModule.assign(p, m.create(v, a.getShape()).toType(a.getDataType(), false));
        });
    }

    @Test
    void evaluationIgnoresCheckpointingAndKeepsTheCache() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalModel model = model("llama", GPT2, new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj"), false), m);
            CausalBatch b = CausalBatch.of(DATA, model.padId());
            try (NDManager sub = m.newSubManager()) {
                NDList in = new NDList(CausalBatch.create(sub, b.ids()), CausalBatch.create(sub, b.mask()));
                GradientCheckpointing checkpointing = new GradientCheckpointing(sub);
                NDList out = model.module().forward(new ai.djl.training.ParameterStore(sub, false), in, false,
                        checkpointing.forwardParameters());
                assertEquals(0, checkpointing.checkpointedLayers());
                assertEquals(1 + 2 * 3, out.size());
                assertTrue(out.get(1) != null);
            }
        }
    }
}
