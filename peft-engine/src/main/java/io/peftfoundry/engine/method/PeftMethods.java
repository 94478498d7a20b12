package io.peftfoundry.engine.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.lora.LoraInjector;

import java.util.LinkedHashMap;
import java.util.Map;

/** The registry: method type (and PEFT peft_type) → config parsers and injector. One line per method. */
public final class PeftMethods {

    private static final Map<String, MethodDescriptor<?>> BY_TYPE = new LinkedHashMap<>();

    static {
        register(new MethodDescriptor<>("lora", "LORA", LoraConfig::fromSpec, LoraConfig::fromAdapterConfig, new LoraInjector()));
        register(new MethodDescriptor<>("adapter", "BOTTLENECK_ADAPTER", io.peftfoundry.engine.method.adapter.AdapterConfig::fromSpec, io.peftfoundry.engine.method.adapter.AdapterConfig::fromAdapterConfig, new io.peftfoundry.engine.method.adapter.AdapterInjector()));
        register(new MethodDescriptor<>("prefix", "PREFIX_TUNING", io.peftfoundry.engine.method.prefix.PrefixConfig::fromSpec, io.peftfoundry.engine.method.prefix.PrefixConfig::fromAdapterConfig, new io.peftfoundry.engine.method.prefix.PrefixInjector()));
        register(new MethodDescriptor<>("prompt", "PROMPT_TUNING", io.peftfoundry.engine.method.prompt.PromptConfig::fromSpec, io.peftfoundry.engine.method.prompt.PromptConfig::fromAdapterConfig, new io.peftfoundry.engine.method.prompt.PromptInjector()));
        register(new MethodDescriptor<>("ia3", "IA3", io.peftfoundry.engine.method.ia3.Ia3Config::fromSpec, io.peftfoundry.engine.method.ia3.Ia3Config::fromAdapterConfig, new io.peftfoundry.engine.method.ia3.Ia3Injector()));
        register(new MethodDescriptor<>("full", null, FullFineTune.Config::fromSpec, n -> new FullFineTune.Config(), new FullFineTune()));
    }

    private PeftMethods() {}

    /** Adds a method (the other methods register here when their folder lands). */
    public static synchronized void register(MethodDescriptor<?> d) {
        BY_TYPE.put(d.type(), d);
    }

    public static synchronized MethodDescriptor<?> byType(String type) {
        MethodDescriptor<?> d = BY_TYPE.get(type);
        if (d == null) {
            throw new IllegalArgumentException("method.type: unknown method '" + type + "' (known: " + BY_TYPE.keySet() + ")");
        }
        return d;
    }

    public static synchronized MethodDescriptor<?> byPeftType(String peftType) {
        for (MethodDescriptor<?> d : BY_TYPE.values()) {
            if (peftType.equals(d.peftType())) {
                return d;
            }
        }
        throw new IllegalArgumentException("adapter_config.json: peft_type '" + peftType + "' is not supported");
    }

    public static synchronized java.util.Set<String> types() {
        return java.util.Set.copyOf(BY_TYPE.keySet());
    }

    /**
     * The method config for the job spec's {@code method} (validated with the spec by {@code SpecValidator}; absent
     * settings take the contract's defaults) on a backbone of {@code modelType} (config.json's {@code model_type}).
     */
    public static MethodConfig fromSpec(MethodSpec method, String modelType) {
        MethodSpec m = (method == null ? MethodSpec.defaults() : method).withDefaults();
        return byType(m.type().wire()).fromSpec().apply(m, modelType);
    }

    public static MethodConfig parseAdapterConfig(ObjectNode adapterConfig) {
        JsonNode pt = adapterConfig.get("peft_type");
        if (pt == null) {
            throw new IllegalArgumentException("adapter_config.json: missing peft_type");
        }
        return byPeftType(pt.asText()).fromAdapterConfig().apply(adapterConfig);
    }
}
