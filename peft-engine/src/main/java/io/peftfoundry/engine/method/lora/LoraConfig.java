package io.peftfoundry.engine.method.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.method.MethodConfig;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

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

    public static final List<String> DEFAULT_TARGETS = List.of("query", "value");
    private static final Set<String> SPEC_FIELDS = Set.of("r", "alpha", "dropout", "target_modules", "use_rslora");

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

    public static LoraConfig defaults() {
        return new LoraConfig(8, 16, 0.05, DEFAULT_TARGETS, false);
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

    /** Parses the job spec's {@code method.lora} object; absent fields take the defaults above. */
    public static LoraConfig fromSpec(JsonNode n) {
        Iterator<String> names = n.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!SPEC_FIELDS.contains(f)) {
                throw new IllegalArgumentException("method.lora." + f + ": unknown field (known: " + SPEC_FIELDS + ")");
            }
        }
        LoraConfig d = defaults();
        return new LoraConfig(
                intField(n, "r", d.r()),
                numField(n, "alpha", d.alpha()),
                numField(n, "dropout", d.dropout()),
                n.has("target_modules") ? stringList(n.get("target_modules"), "method.lora.target_modules") : d.targetModules(),
                n.has("use_rslora") ? boolField(n, "use_rslora") : d.useRslora());
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

    private static int intField(JsonNode n, String f, int def) {
        JsonNode v = n.get(f);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException("method.lora." + f + ": must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static double numField(JsonNode n, String f, double def) {
        JsonNode v = n.get(f);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("method.lora." + f + ": must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static boolean boolField(JsonNode n, String f) {
        JsonNode v = n.get(f);
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("method.lora." + f + ": must be true or false, got " + v);
        }
        return v.asBoolean();
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
