package io.peftfoundry.engine.method;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.adapter.AdapterConfig;
import io.peftfoundry.engine.method.ia3.Ia3Config;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.method.prompt.PromptConfig;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import io.peftfoundry.engine.model.llama.LlamaForCausalLM;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalLmLoss;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.GenerationConfig;
import io.peftfoundry.engine.task.causal.Generator;
import io.peftfoundry.engine.task.causal.SftEncoder;
import io.peftfoundry.engine.task.causal.TokenSequence;
import io.peftfoundry.engine.training.AdamW;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bottleneck adapters, prefix tuning, prompt tuning, LoRA and IA3 on both decoders (GPT-2, and LLaMA with grouped-query
 * attention): the backbone stays bit-identical, gradients reach only the method's parameters, the loss of a toy
 * SFT task falls, save → load gives the same logits, and cached decoding equals the full forward pass with the
 * method installed (so generation works).
 */
class DecoderPeftMethodsTest {

    static final Gpt2Config GPT2 = Gpt2Config.tiny(30, 16, 2, 2, 24);
    /** 4 query heads sharing 2 key/value heads. */
    static final LlamaConfig LLAMA = LlamaConfig.tiny(30, 16, 2, 4, 2, 24, false);
    static final int STEPS = 30;

    static Stream<Arguments> cases() {
        List<MethodConfig> methods = List.of(
                AdapterConfig.of(AdapterConfig.Variant.HOULSBY, 4, "relu"),
                AdapterConfig.of(AdapterConfig.Variant.PFEIFFER, 4, "relu"),
                AdapterConfig.of(AdapterConfig.Variant.PARALLEL, 4, "relu"),
                new PrefixConfig(4, 32, true),
                new PrefixConfig(4, 0, false),
                new PromptConfig(4, PromptConfig.Init.VOCAB));
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("gpt2", "llama")) {
            for (MethodConfig m : methods) {
                out.add(Arguments.of(arch, m));
            }
        }
        // LoRA and IA3 on attention and MLP projections (module names differ per architecture)
        out.add(Arguments.of("gpt2", new LoraConfig(4, 8, 0.0, List.of("c_attn", "c_fc", "mlp.c_proj"), false)));
        out.add(Arguments.of("llama", new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj", "gate_proj", "down_proj"), false)));
        out.add(Arguments.of("gpt2", new Ia3Config(List.of("c_attn", "mlp.c_proj"), List.of("mlp.c_proj"))));
        out.add(Arguments.of("llama", new Ia3Config(List.of("k_proj", "v_proj", "down_proj"), List.of("down_proj"))));
        return out.stream();
    }

    /**
     * A random backbone with weights 8× wider than the 0.02 initialiser (norm weights stay 1): at 0.02 the logits
     * are near uniform and attention nearly flat, so virtual tokens barely reach the output and the toy task
     * moves little in a few steps.
     */
    static CausalDecoder backbone(String arch, NDManager m) {
        CausalDecoder d = arch.equals("gpt2") ? Gpt2Checkpoint.random(GPT2, m, 5, DataType.FLOAT32)
                : LlamaCheckpoint.random(LLAMA, m, 5, DataType.FLOAT32);
        ((HfModule) d).namedParameters().forEach((k, p) -> {
            if (!k.contains("norm") && !k.contains(".ln_")) {
                HfModule.assign(p, p.getArray().mul(8));
            }
        });
        return d;
    }

    static Map<String, Tensor> backboneTensors(CausalDecoder d) {
        return d instanceof Gpt2LmHeadModel g ? Gpt2Checkpoint.backboneTensors(g)
                : LlamaCheckpoint.backboneTensors((LlamaForCausalLM) d);
    }

    static NDArray logits(CausalDecoder d, NDManager m, long[][] ids) {
        NDList in = new NDList(CausalBatch.create(m, ids), null);
        return ((HfModule) d).forward(new ParameterStore(m, false), in, false).head();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void trainsOnlyItsParametersSavesAndGenerates(String arch, MethodConfig config, @TempDir Path tmp) throws Exception {
        String what = arch + " " + config;
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder model = backbone(arch, m);
            HfModule net = (HfModule) model;
            Map<String, Tensor> before = backboneTensors(model);
            InjectedMethod method = PeftMethods.byType(config.methodType()).inject(model, config, m, 3);
            Map<String, Parameter> trainable = method.trainableParameters();
            Set<Parameter> mine = Collections.newSetFromMap(new IdentityHashMap<>());
            mine.addAll(trainable.values());
            assertFalse(mine.isEmpty());

            List<TokenSequence> data = List.of(SftEncoder.encode(new long[] {3, 4, 5}, new long[] {10, 11, 12}, 29, 12),
                    SftEncoder.encode(new long[] {6, 7}, new long[] {20, 21, 22, 23}, 29, 12));
            CausalBatch b = CausalBatch.of(data, 0);
            AdamW adam = new AdamW();
            double first = 0;
            double last = 0;
            for (int step = 0; step < STEPS; step++) {
                try (NDManager sub = m.newSubManager()) {
                    NDList in = new NDList(CausalBatch.create(sub, b.ids()), CausalBatch.create(sub, b.mask()));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray logits = net.forward(new ParameterStore(sub, false), in, true).head();
                        assertEquals(new Shape(2, b.ids()[0].length, 30), logits.getShape(), what);
                        NDArray loss = CausalLmLoss.compute(logits, b.ids(), b.targets()).mean();
                        last = loss.getFloat();
                        first = step == 0 ? last : first;
                        gc.backward(loss);
                    }
                }
                if (step == 1) {
                    // gradients only on the method's parameters: every other parameter has none attached
                    double norm = 0;
                    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                        Parameter p = e.getValue();
                        if (mine.contains(p)) {
                            norm += p.getArray().getGradient().abs().sum().getFloat();
                        } else {
                            assertFalse(p.requiresGradient(), what + ": " + e.getKey() + " has a gradient");
                            assertFalse(p.getArray().hasGradient(), what + ": " + e.getKey() + " has a gradient");
                        }
                    }
                    assertTrue(norm > 0, what + ": no gradient on the method's parameters");
                }
                adam.step(trainable, 3e-2, 0.0, n -> true);
                for (Parameter p : trainable.values()) {
                    try (NDArray g = p.getArray().getGradient()) {
                        g.muli(0);
                    }
                }
            }
            // toy completions start near ln 30 ≈ 3.4 nats (tiny random weights); 30 AdamW steps at 3e-2 move every
            // method clearly (a method that does not reach the logits leaves the loss where it is)
            assertTrue(last < 0.9 * first, what + " loss " + first + " → " + last);
            Map<String, Tensor> after = backboneTensors(model);
            before.forEach((k, t) -> assertEquals(t, after.get(k), what + ": " + k + " changed"));

            // save → load into a fresh backbone (the config as read back from adapter_config.json)
            long[][] probe = {{3, 4, 5, 10, 11, 12, 9}};
            NDArray expected = logits(model, m, probe);
            SafeTensors.write(tmp.resolve(method.weightsFileName()), method.stateDict(), Map.of("format", "pt"));
            ObjectNode saved = method.adapterConfig();
            MethodDescriptor<?> d = PeftMethods.byPeftType(saved.get("peft_type").asText());
            MethodConfig reread = d.fromAdapterConfig().apply(saved);
            CausalDecoder fresh = backbone(arch, m);
            InjectedMethod loaded = d.inject(fresh, reread, m, 99);
            loaded.loadStateDict(SafeTensors.read(tmp.resolve(method.weightsFileName())), m);
            double diff = TestModels.maxAbsDiff(expected, logits(fresh, m, probe));
            // prefix tables computed through the MLP and saved as final vectors: float32 rounding only
            assertTrue(diff < 1e-5, what + ": reloaded logits differ by " + diff);

            // generation: one token at a time with the cache (the method's virtual tokens in it) = full pass
            ParameterStore ps = new ParameterStore(m, false);
            NDList r = net.forward(ps, new NDList(CausalBatch.create(m, new long[][] {{3, 4, 5}}), null), false);
            double worst = TestModels.maxAbsDiff(expected.get(":, 0:3, :"), r.get(0));
            for (int i = 3; i < probe[0].length; i++) {
                NDList in = new NDList(CausalBatch.create(m, new long[][] {{probe[0][i]}}), null);
                in.addAll(r.subList(1, r.size()));
                r = net.forward(ps, in, false);
                worst = Math.max(worst, TestModels.maxAbsDiff(expected.get(":, " + i + ":" + (i + 1) + ", :"), r.get(0)));
            }
            assertTrue(worst < 1e-5, what + ": cached decoding differs from the full pass by " + worst);
        }
    }

    /**
     * Virtual tokens take positions: with 4 of them on a 24-position GPT-2, 20 are left, and generation from an
     * 18-token prompt stops at that length instead of running past GPT-2's learned positions (which throws).
     */
    @Test
    void generationStopsAtTheContextTheVirtualTokensLeave() {
        for (MethodConfig config : List.of(new PrefixConfig(4, 0, false), new PromptConfig(4, PromptConfig.Init.RANDOM))) {
            try (NDManager m = NDManager.newBaseManager()) {
                Gpt2LmHeadModel decoder = Gpt2Checkpoint.random(GPT2, m, 5, DataType.FLOAT32);
                assertEquals(0, decoder.virtualTokens());
                CausalModel model = CausalModel.create(decoder, config, m, 3);
                assertEquals(4, decoder.virtualTokens(), config.methodType());
                assertEquals(GPT2.nPositions() - 4, model.maxPositions(), config.methodType());
                long[] prompt = new long[18];
                java.util.Arrays.fill(prompt, 7);
                Generator.Generation g = model.generator(null).generate(m, prompt, GenerationConfig.greedy(10));
                assertEquals("length", g.finishReason(), config.methodType());
                // 20 positions: the 18 prompt tokens and 2 generated ones fed back, plus the token predicted last
                assertEquals(3, g.tokens().length, config.methodType());
            }
        }
    }
}
