package io.peftfoundry.engine.method.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.Ia3Spec;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.engine.method.MethodConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * IA3 hyperparameters (PEFT's IA3Config). A linear layer is wrapped when its path matches a target by
 * PEFT's suffix rule ({@code output.dense} matches both {@code attention.output.dense} and the FFN's
 * {@code output.dense}); a wrapped layer matching a {@code feedforward_modules} entry scales its
 * input (for the FFN output projection: the GELU activation), any other scales its output (key, value).
 *
 * @param targetModules names or suffixes of linear layers to wrap; default key, value, output.dense (PEFT's BERT default)
 * @param feedforwardModules the subset of targets whose input is scaled; default output.dense
 */
public record Ia3Config(List<String> targetModules, List<String> feedforwardModules) implements MethodConfig {

    public Ia3Config {
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("method.ia3.target_modules: must name at least one module, e.g. [\"key\", \"value\", \"output.dense\"]");
        }
        feedforwardModules = feedforwardModules == null ? List.of() : List.copyOf(feedforwardModules);
        targetModules = List.copyOf(targetModules);
        for (String f : feedforwardModules) {
            if (!targetModules.contains(f)) {
                throw new IllegalArgumentException("method.ia3.feedforward_modules: '" + f
                        + "' is not in target_modules " + targetModules + " (feedforward modules must be a subset)");
            }
        }
    }

    /** The job spec's defaults on BERT. */
    public static Ia3Config defaults() {
        return fromSpec(MethodSpec.ia3(Ia3Spec.defaults()), "bert");
    }

    @Override
    public String methodType() {
        return "ia3";
    }

    @Override
    public String peftType() {
        return "IA3";
    }

    /**
     * The job spec's {@code method.ia3} (platform-contracts {@link Ia3Spec}, checked by {@code SpecValidator}); the
     * default target modules mean {@code modelType}'s entry in {@link Ia3Targets}.
     */
    public static Ia3Config fromSpec(MethodSpec method, String modelType) {
        Ia3Spec s = method.withDefaults().ia3();
        Ia3Targets.Defaults t = Ia3Targets.resolve(s.targetModules(), s.feedforwardModules(),
                Ia3Spec.DEFAULT_TARGET_MODULES, modelType);
        return new Ia3Config(t.targets(), t.feedforward());
    }

    /** Reads PEFT's adapter_config.json (target_modules, feedforward_modules: lists or single strings). */
    public static Ia3Config fromAdapterConfig(ObjectNode n) {
        JsonNode t = n.get("target_modules");
        JsonNode ff = n.get("feedforward_modules");
        return new Ia3Config(
                t == null || t.isNull() ? List.of() : stringList(t, "adapter_config.json target_modules"),
                ff == null || ff.isNull() ? List.of() : stringList(ff, "adapter_config.json feedforward_modules"));
    }

    public void writeAdapterConfig(ObjectNode n) {
        n.put("peft_type", "IA3");
        var t = n.putArray("target_modules");
        targetModules.forEach(t::add);
        var ff = n.putArray("feedforward_modules");
        feedforwardModules.forEach(ff::add);
        n.put("fan_in_fan_out", false);
        n.put("init_ia3_weights", true);
        n.putNull("modules_to_save");
    }

    /** A list of non-empty module names in adapter_config.json (a single string is a one-entry list, as PEFT allows). */
    private static List<String> stringList(JsonNode v, String field) {
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException(field + ": must be a list of module names");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual() || e.asText().isBlank()) {
                throw new IllegalArgumentException(field + ": entries must be non-empty strings, got " + e);
            }
            out.add(e.asText());
        }
        return out;
    }
}
