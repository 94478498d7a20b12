package io.peftfoundry.engine.method;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.MethodSpec;

import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One registry entry: how to build a method's config from the job spec's typed method (platform-contracts
 * {@link MethodSpec}, already checked by {@code SpecValidator}) for an architecture, and from a saved
 * {@code adapter_config.json}, and how to inject it.
 *
 * @param type the job spec name (lora, adapter, prefix, prompt, ia3, full)
 * @param peftType PEFT's peft_type, or null when the method has no PEFT format
 * @param fromSpec the config for a method spec (defaults applied) on a backbone of a {@code model_type} (bert, gpt2,
 *     llama …), whose default target modules the method's own table gives
 * @param fromAdapterConfig parses a saved adapter_config.json
 */
public record MethodDescriptor<C extends MethodConfig>(
        String type,
        String peftType,
        BiFunction<MethodSpec, String, C> fromSpec,
        Function<ObjectNode, C> fromAdapterConfig,
        MethodInjector<C> injector) {

    @SuppressWarnings("unchecked")
    public InjectedMethod inject(io.peftfoundry.engine.model.Backbone backbone, MethodConfig config,
            ai.djl.ndarray.NDManager manager, long seed) {
        return injector.inject(backbone, (C) config, manager, seed);
    }
}
