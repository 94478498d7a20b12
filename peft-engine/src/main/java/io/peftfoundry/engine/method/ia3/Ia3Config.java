package io.peftfoundry.engine.method.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.SpecFields;

import java.util.List;
import java.util.Set;

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

    public static final List<String> DEFAULT_TARGETS = List.of("key", "value", "output.dense");
    public static final List<String> DEFAULT_FEEDFORWARD = List.of("output.dense");
    private static final Set<String> SPEC_FIELDS = Set.of("target_modules", "feedforward_modules");

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

    public static Ia3Config defaults() {
        return new Ia3Config(DEFAULT_TARGETS, DEFAULT_FEEDFORWARD);
    }

    @Override
    public String methodType() {
        return "ia3";
    }

    @Override
    public String peftType() {
        return "IA3";
    }

    /** Parses the job spec's {@code method.ia3}; absent fields take the defaults. */
    public static Ia3Config fromSpec(JsonNode n) {
        SpecFields f = SpecFields.of(n, "ia3", SPEC_FIELDS);
        List<String> targets = f.strings("target_modules", DEFAULT_TARGETS);
        // when only the targets are given, keep the default feed-forward entries that are among them
        List<String> ff = f.strings("feedforward_modules",
                DEFAULT_FEEDFORWARD.stream().filter(targets::contains).toList());
        return new Ia3Config(targets, ff);
    }

    /** Reads PEFT's adapter_config.json (target_modules, feedforward_modules: lists or single strings). */
    public static Ia3Config fromAdapterConfig(ObjectNode n) {
        JsonNode t = n.get("target_modules");
        JsonNode ff = n.get("feedforward_modules");
        return new Ia3Config(
                t == null || t.isNull() ? List.of() : SpecFields.stringList(t, "adapter_config.json target_modules"),
                ff == null || ff.isNull() ? List.of() : SpecFields.stringList(ff, "adapter_config.json feedforward_modules"));
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
}
