package io.peftfoundry.engine.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.function.Function;

/**
 * One registry entry: how to read a method's config from the job spec's method object (e.g. the
 * {@code "lora"} sub-object) and from a saved {@code adapter_config.json}, and how to inject it.
 *
 * @param type the job spec name (lora, adapter, prefix, prompt, ia3, full)
 * @param peftType PEFT's peft_type, or null when the method has no PEFT format
 * @param fromSpec parses the method's sub-object of the job spec (may be empty); throws
 *     IllegalArgumentException naming the field
 * @param fromAdapterConfig parses a saved adapter_config.json
 */
public record MethodDescriptor<C extends MethodConfig>(
        String type,
        String peftType,
        Function<JsonNode, C> fromSpec,
        Function<ObjectNode, C> fromAdapterConfig,
        MethodInjector<C> injector) {

    @SuppressWarnings("unchecked")
    public InjectedMethod inject(io.peftfoundry.engine.model.Backbone backbone, MethodConfig config,
            ai.djl.ndarray.NDManager manager, long seed) {
        return injector.inject(backbone, (C) config, manager, seed);
    }
}
