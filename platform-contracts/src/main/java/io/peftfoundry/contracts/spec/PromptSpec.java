package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Prompt tuning: trainable virtual token embeddings prepended to the input embeddings.
 *
 * @param numVirtualTokens number of virtual tokens, 1–512; default {@value #DEFAULT_NUM_VIRTUAL_TOKENS}
 * @param init             initialisation; default {@code random}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PromptSpec(Integer numVirtualTokens, PromptInit init) {

    public static final int DEFAULT_NUM_VIRTUAL_TOKENS = 20;
    public static final PromptInit DEFAULT_INIT = PromptInit.RANDOM;

    public static PromptSpec defaults() {
        return new PromptSpec(null, null).withDefaults();
    }

    public PromptSpec withDefaults() {
        return new PromptSpec(
                numVirtualTokens != null ? numVirtualTokens : DEFAULT_NUM_VIRTUAL_TOKENS,
                init != null ? init : DEFAULT_INIT);
    }
}
