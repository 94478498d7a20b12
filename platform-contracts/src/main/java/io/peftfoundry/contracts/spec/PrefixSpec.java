package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Prefix tuning: trainable key/value vectors prepended in every attention layer.
 *
 * @param numVirtualTokens     prefix length, 1–512; default {@value #DEFAULT_NUM_VIRTUAL_TOKENS}
 * @param projectionHiddenSize hidden size of the reparameterisation MLP that produces the prefix during training,
 *                             0–8192, where 0 trains the prefix vectors directly; default
 *                             {@value #DEFAULT_PROJECTION_HIDDEN_SIZE}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PrefixSpec(Integer numVirtualTokens, Integer projectionHiddenSize) {

    public static final int DEFAULT_NUM_VIRTUAL_TOKENS = 20;
    public static final int DEFAULT_PROJECTION_HIDDEN_SIZE = 512;

    public static PrefixSpec defaults() {
        return new PrefixSpec(null, null).withDefaults();
    }

    public PrefixSpec withDefaults() {
        return new PrefixSpec(
                numVirtualTokens != null ? numVirtualTokens : DEFAULT_NUM_VIRTUAL_TOKENS,
                projectionHiddenSize != null ? projectionHiddenSize : DEFAULT_PROJECTION_HIDDEN_SIZE);
    }
}
