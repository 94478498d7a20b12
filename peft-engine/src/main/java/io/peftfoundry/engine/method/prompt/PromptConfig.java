package io.peftfoundry.engine.method.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.contracts.spec.PromptInit;
import io.peftfoundry.contracts.spec.PromptSpec;
import io.peftfoundry.engine.method.MethodConfig;

import java.util.Locale;

/**
 * Prompt tuning hyperparameters (PEFT's PromptTuningConfig).
 *
 * @param numVirtualTokens P soft tokens prepended to the input embeddings (1–512)
 * @param init {@code random}: normal(0, 1) as PEFT's RANDOM (torch.nn.Embedding's default);
 *     {@code vocab}: P rows of the frozen word-embedding matrix, drawn with the seed (ids uniform over
 *     the vocabulary, with repetition) — PEFT's SAMPLE_VOCAB
 */
public record PromptConfig(int numVirtualTokens, Init init) implements MethodConfig {

    /** Initialisation, with PEFT's prompt_tuning_init name. */
    public enum Init {
        RANDOM("RANDOM"), VOCAB("SAMPLE_VOCAB");

        private final String peftName;

        Init(String peftName) {
            this.peftName = peftName;
        }

        public String peftName() {
            return peftName;
        }

        public String specName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public PromptConfig {
        if (numVirtualTokens < 1 || numVirtualTokens > 512) {
            throw new IllegalArgumentException("method.prompt.num_virtual_tokens: must be between 1 and 512, got " + numVirtualTokens);
        }
        if (init == null) {
            throw new IllegalArgumentException("method.prompt.init: must be random or vocab");
        }
    }

    /** The job spec's defaults. */
    public static PromptConfig defaults() {
        return fromSpec(MethodSpec.prompt(PromptSpec.defaults()), "bert");
    }

    @Override
    public String methodType() {
        return "prompt";
    }

    @Override
    public String peftType() {
        return "PROMPT_TUNING";
    }

    /** The job spec's {@code method.prompt} (platform-contracts {@link PromptSpec}, checked by {@code SpecValidator}). */
    public static PromptConfig fromSpec(MethodSpec method, String modelType) {
        PromptSpec s = method.withDefaults().prompt();
        return new PromptConfig(s.numVirtualTokens(), s.init() == PromptInit.VOCAB ? Init.VOCAB : Init.RANDOM);
    }

    /**
     * Reads PEFT's adapter_config.json. The init only matters before training; TEXT and other PEFT
     * inits read as {@code vocab} (their prompts also start from word embeddings).
     */
    public static PromptConfig fromAdapterConfig(ObjectNode n) {
        JsonNode p = n.get("num_virtual_tokens");
        if (p == null || !p.canConvertToInt()) {
            throw new IllegalArgumentException("adapter_config.json: PROMPT_TUNING needs an integer num_virtual_tokens");
        }
        String init = n.path("prompt_tuning_init").asText("RANDOM");
        return new PromptConfig(p.asInt(), "RANDOM".equals(init) ? Init.RANDOM : Init.VOCAB);
    }
}
