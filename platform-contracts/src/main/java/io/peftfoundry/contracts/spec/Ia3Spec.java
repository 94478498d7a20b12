package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/**
 * IA3: trainable vectors that rescale the activations of the matching modules (the output of attention modules,
 * the input of feed-forward modules).
 *
 * @param targetModules       module name suffixes to rescale, non-empty; default {@code ["key", "value", "output.dense"]}
 * @param feedforwardModules  those of {@code target_modules} to treat as feed-forward (input rescaled), each also
 *                            listed in {@code target_modules}; default: those of {@code ["output.dense"]} that
 *                            are in {@code target_modules}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Ia3Spec(List<String> targetModules, List<String> feedforwardModules) {

    public static final List<String> DEFAULT_TARGET_MODULES = List.of("key", "value", "output.dense");
    public static final List<String> DEFAULT_FEEDFORWARD_MODULES = List.of("output.dense");

    public Ia3Spec {
        targetModules = Lists.copyOrNull(targetModules);
        feedforwardModules = Lists.copyOrNull(feedforwardModules);
    }

    public static Ia3Spec defaults() {
        return new Ia3Spec(null, null).withDefaults();
    }

    public Ia3Spec withDefaults() {
        List<String> targets = targetModules != null ? targetModules : DEFAULT_TARGET_MODULES;
        // the default feed-forward list only names modules the user targets (as PEFT does)
        List<String> feedforward = feedforwardModules != null ? feedforwardModules
                : DEFAULT_FEEDFORWARD_MODULES.stream().filter(targets::contains).toList();
        return new Ia3Spec(targets, feedforward);
    }
}
