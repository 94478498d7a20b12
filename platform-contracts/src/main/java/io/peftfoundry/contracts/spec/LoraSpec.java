package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/**
 * LoRA: a trainable low-rank update {@code B·A} (scaled by {@code alpha / r}, or {@code alpha / √r} with rsLoRA) beside
 * each frozen linear layer whose name ends with one of {@code target_modules}.
 *
 * @param r              rank, 1–512; default {@value #DEFAULT_R}
 * @param alpha          scaling numerator, &gt; 0 and ≤ 4096; default {@value #DEFAULT_ALPHA}
 * @param dropout        dropout on the LoRA input, 0 ≤ p &lt; 1; default {@value #DEFAULT_DROPOUT}
 * @param targetModules  module name suffixes to wrap, non-empty; default {@code ["query", "value"]}
 * @param useRslora      rank-stabilised scaling {@code alpha / √r}; default false
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record LoraSpec(Integer r, Double alpha, Double dropout, List<String> targetModules, Boolean useRslora) {

    public static final int DEFAULT_R = 8;
    public static final double DEFAULT_ALPHA = 16.0;
    public static final double DEFAULT_DROPOUT = 0.05;
    public static final List<String> DEFAULT_TARGET_MODULES = List.of("query", "value");

    public LoraSpec {
        targetModules = Lists.copyOrNull(targetModules);
    }

    /** Every setting at its default. */
    public static LoraSpec defaults() {
        return new LoraSpec(null, null, null, null, null).withDefaults();
    }

    /** A copy with every absent (null) setting replaced by its default. */
    public LoraSpec withDefaults() {
        return new LoraSpec(
                r != null ? r : DEFAULT_R,
                alpha != null ? alpha : DEFAULT_ALPHA,
                dropout != null ? dropout : DEFAULT_DROPOUT,
                targetModules != null ? targetModules : DEFAULT_TARGET_MODULES,
                useRslora != null ? useRslora : Boolean.FALSE);
    }
}
