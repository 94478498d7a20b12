package io.peftfoundry.engine.method.ia3;

import java.util.List;
import java.util.Map;

/**
 * IA3's default {@code target_modules} and {@code feedforward_modules} per architecture ({@code model_type}), as
 * Hugging Face PEFT keeps them ({@code TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING} and
 * {@code …_IA3_FEEDFORWARD_MODULES_MAPPING}): key and value (scaled outputs) and the FFN's output projection (scaled
 * input). The job spec's default names BERT's layers; on another architecture it means that architecture's entry.
 */
public final class Ia3Targets {

    /** One architecture's defaults; {@code feedforward} is a subset of {@code targets}. */
    public record Defaults(List<String> targets, List<String> feedforward) {}

    static final Map<String, Defaults> BY_MODEL_TYPE = Map.of(
            "bert", new Defaults(List.of("key", "value", "output.dense"), List.of("output.dense")),
            "gpt2", new Defaults(List.of("c_attn", "mlp.c_proj"), List.of("mlp.c_proj")),
            "llama", new Defaults(List.of("k_proj", "v_proj", "down_proj"), List.of("down_proj")),
            "mistral", new Defaults(List.of("k_proj", "v_proj", "down_proj"), List.of("down_proj")),
            "qwen2", new Defaults(List.of("k_proj", "v_proj", "down_proj"), List.of("down_proj")));

    private Ia3Targets() {}

    /**
     * The spec's targets and feed-forward modules, unless its targets are the spec's default and {@code modelType} has
     * an entry: then both come from the entry.
     */
    public static Defaults resolve(List<String> specTargets, List<String> specFeedforward, List<String> specDefault,
            String modelType) {
        Defaults d = BY_MODEL_TYPE.get(modelType);
        if (d != null && specTargets.equals(specDefault)) {
            return d;
        }
        return new Defaults(specTargets, specFeedforward);
    }
}
