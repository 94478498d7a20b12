package io.peftfoundry.engine.method.lora;

import java.util.List;
import java.util.Map;

/**
 * LoRA's default {@code target_modules} per architecture ({@code model_type} in config.json), as Hugging Face PEFT keeps
 * them ({@code TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING}): the attention's query and value projections.
 * The job spec's default ({@code ["query", "value"]}, platform-contracts {@code LoraSpec}) names BERT's layers; on
 * another architecture the same default means that architecture's entry here. Adding a family: one line.
 */
public final class LoraTargets {

    static final Map<String, List<String>> BY_MODEL_TYPE = Map.of(
            "bert", List.of("query", "value"),
            "gpt2", List.of("c_attn"),
            "llama", List.of("q_proj", "v_proj"),
            "mistral", List.of("q_proj", "v_proj"),
            "qwen2", List.of("q_proj", "v_proj"));

    private LoraTargets() {}

    /**
     * The targets to use: the spec's own list, unless it is the spec's default and {@code modelType} has an entry,
     * which then replaces it.
     */
    public static List<String> resolve(List<String> specTargets, List<String> specDefault, String modelType) {
        if (specTargets.equals(specDefault)) {
            return BY_MODEL_TYPE.getOrDefault(modelType, specTargets);
        }
        return specTargets;
    }
}
