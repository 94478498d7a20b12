package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.GradientCheckpointing;
import io.peftfoundry.engine.model.HfModule;

import java.util.Map;

/**
 * A decoder (GPT-2, LLaMA) with one PEFT method installed: what causal training, evaluation, generation and saving work on.
 * Trainable = the method's parameters (keyed by their path in the decoder, {@code transformer.h.0.attn.c_attn.lora_A.weight}).
 * Padding uses the EOS id (GPT-2 has no pad token); padded positions are masked and never targets.
 */
public final class CausalModel {

    private final CausalDecoder decoder;
    private final InjectedMethod method;
    private final ParameterStore parameterStore;

    private CausalModel(CausalDecoder decoder, InjectedMethod method, NDManager manager) {
        this.decoder = decoder;
        this.method = method;
        this.parameterStore = new ParameterStore(manager, false);
    }

    /** Installs {@code config} on a frozen decoder; new method parameters are drawn from {@code seed}. */
    public static CausalModel create(CausalDecoder decoder, MethodConfig config, NDManager manager, long seed) {
        InjectedMethod method = PeftMethods.byType(config.methodType()).inject(decoder, config, manager, seed);
        return new CausalModel(decoder, method, manager);
    }

    public CausalDecoder decoder() {
        return decoder;
    }

    /** The decoder as a block (every decoder is an {@link HfModule}). */
    public HfModule module() {
        return (HfModule) decoder;
    }

    public InjectedMethod method() {
        return method;
    }

    public long eosId() {
        return DecoderFiles.eosId(decoder);
    }

    public long padId() {
        return eosId();
    }

    /** Positions left for real tokens: n_positions less the method's virtual tokens (prefix or prompt tuning). */
    public int maxPositions() {
        return decoder.maxPositions() - decoder.virtualTokens();
    }

    public Map<String, Parameter> trainableParameters() {
        return method.trainableParameters();
    }

    public long trainableParameterCount() {
        return trainableParameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
    }

    /** Every parameter of the decoder, method included (PEFT's "all params"). */
    public long totalParameterCount() {
        return decoder.namedParameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
    }

    /** logits (B, T, V) for NDList(ids, mask). */
    public NDArray logits(NDList inputs, boolean training) {
        return module().forward(parameterStore, inputs, training).head();
    }

    /** Training logits with every decoder layer checkpointed by {@code checkpointing} (backward through it). */
    public NDArray logits(NDList inputs, GradientCheckpointing checkpointing) {
        return module().forward(parameterStore, inputs, true, checkpointing.forwardParameters()).head();
    }

    public Generator generator(CausalTokenizer tokenizer) {
        return new Generator(module(), tokenizer, eosId(), maxPositions());
    }

    /** A generator that stops at any of the model directory's eos ids ({@link SpecialTokens#generationEosIds()}). */
    public Generator generator(CausalTokenizer tokenizer, SpecialTokens tokens) {
        return new Generator(module(), tokenizer, tokens.generationEosIds(), maxPositions());
    }
}
