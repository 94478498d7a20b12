package io.peftfoundry.engine.method.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.LoraSpec;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.engine.method.MethodConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * LoRA hyperparameters. {@code target_modules} are matched as PEFT does: a linear layer is wrapped
 * when its path equals a target or ends with {@code "." + target} — so {@code dense} matches the
 * attention output, intermediate and output projections, {@code output.dense} matches the
 * attention output and FFN output projections.
 *
 * @param r rank (≥ 1)
 * @param alpha scaling numerator: scaling = alpha / r, or alpha / sqrt(r) with rsLoRA
 * @param dropout dropout on the LoRA input, in [0, 1)
 * @param targetModules names or suffixes of linear layers to wrap
 * @param useRslora rank-stabilised scaling
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, boolean useRslora)
        implements MethodConfig {

    public LoraConfig {
        if (r < 1 || r > 4096) {
            throw new IllegalArgumentException("method.lora.r: must be between 1 and 4096, got " + r);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("method.lora.alpha: must be > 0, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("method.lora.dropout: must be in [0, 1), got " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("method.lora.target_modules: must name at least one module, e.g. [\"query\", \"value\"]");
        }
        targetModules = List.copyOf(targetModules);
    }

    /** The job spec's defaults on BERT. */
    public static LoraConfig defaults() {
        return fromSpec(MethodSpec.lora(LoraSpec.defaults()), "bert");
    }

    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    @Override
    public String methodType() {
        return "lora";
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    /**
     * The job spec's {@code method.lora} (platform-contracts {@link LoraSpec}, defaults applied and ranges checked by
     * {@code SpecValidator}); the default target modules mean {@code modelType}'s entry in {@link LoraTargets}.
     */
    public static LoraConfig fromSpec(MethodSpec method, String modelType) {
        LoraSpec s = method.withDefaults().lora();
        return new LoraConfig(s.r(), s.alpha(), s.dropout(),
                LoraTargets.resolve(s.targetModules(), LoraSpec.DEFAULT_TARGET_MODULES, modelType), s.useRslora());
    }

    /** Reads PEFT's adapter_config.json fields (r, lora_alpha, lora_dropout, target_modules, use_rslora). */
    public static LoraConfig fromAdapterConfig(ObjectNode n) {
        JsonNode t = n.get("target_modules");
        List<String> targets = t == null ? List.of() : t.isTextual() ? List.of(t.asText())
                : stringList(t, "adapter_config.json target_modules");
        return new LoraConfig(n.path("r").asInt(8), n.path("lora_alpha").asDouble(8), n.path("lora_dropout").asDouble(0),
                targets, n.path("use_rslora").asBoolean(false));
    }

    public void writeAdapterConfig(ObjectNode n) {
        n.put("peft_type", "LORA");
        n.put("r", r);
        if (alpha == Math.rint(alpha)) {
            n.put("lora_alpha", (long) alpha); // PEFT writes an int when it is one
        } else {
            n.put("lora_alpha", alpha);
        }
        n.put("lora_dropout", dropout);
        var arr = n.putArray("target_modules");
        targetModules.forEach(arr::add);
        n.put("use_rslora", useRslora);
        n.put("use_dora", false);
        n.put("fan_in_fan_out", false);
        n.put("bias", "none");
        n.put("init_lora_weights", true);
        n.putNull("layers_to_transform");
        n.putNull("layers_pattern");
        n.putObject("rank_pattern");
        n.putObject("alpha_pattern");
    }

    static List<String> stringList(JsonNode v, String field) {
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
