package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/**
 * Bottleneck adapter: down-projection to {@code hidden / reduction_factor}, activation, up-projection, residual.
 *
 * @param variant         placement; default {@code pfeiffer}
 * @param reductionFactor hidden size divided by the bottleneck size, 1–1024; default {@value #DEFAULT_REDUCTION_FACTOR}
 * @param activation      one of {@link #ACTIVATIONS}; default {@value #DEFAULT_ACTIVATION}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AdapterSpec(AdapterVariant variant, Integer reductionFactor, String activation) {

    public static final AdapterVariant DEFAULT_VARIANT = AdapterVariant.PFEIFFER;
    public static final int DEFAULT_REDUCTION_FACTOR = 16;
    public static final String DEFAULT_ACTIVATION = "relu";
    /** Activations the engine implements ({@code swish} is another name for {@code silu}). */
    public static final List<String> ACTIVATIONS = List.of("relu", "gelu", "silu", "swish", "tanh");

    public static AdapterSpec defaults() {
        return new AdapterSpec(null, null, null).withDefaults();
    }

    public AdapterSpec withDefaults() {
        return new AdapterSpec(
                variant != null ? variant : DEFAULT_VARIANT,
                reductionFactor != null ? reductionFactor : DEFAULT_REDUCTION_FACTOR,
                activation != null ? activation : DEFAULT_ACTIVATION);
    }
}
