package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The training method: its {@code type} and the settings block named after that type (the other blocks stay absent;
 * a block for another type is a validation error).
 *
 * @param type    default {@code lora}
 * @param lora    settings when {@code type} is {@code lora}
 * @param adapter settings when {@code type} is {@code adapter}
 * @param prefix  settings when {@code type} is {@code prefix}
 * @param prompt  settings when {@code type} is {@code prompt}
 * @param ia3     settings when {@code type} is {@code ia3}; {@code full} has no settings block
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MethodSpec(MethodType type, LoraSpec lora, AdapterSpec adapter, PrefixSpec prefix, PromptSpec prompt,
                         Ia3Spec ia3) {

    public static final MethodType DEFAULT_TYPE = MethodType.LORA;

    public static MethodSpec lora(LoraSpec lora) {
        return new MethodSpec(MethodType.LORA, lora, null, null, null, null);
    }

    public static MethodSpec adapter(AdapterSpec adapter) {
        return new MethodSpec(MethodType.ADAPTER, null, adapter, null, null, null);
    }

    public static MethodSpec prefix(PrefixSpec prefix) {
        return new MethodSpec(MethodType.PREFIX, null, null, prefix, null, null);
    }

    public static MethodSpec prompt(PromptSpec prompt) {
        return new MethodSpec(MethodType.PROMPT, null, null, null, prompt, null);
    }

    public static MethodSpec ia3(Ia3Spec ia3) {
        return new MethodSpec(MethodType.IA3, null, null, null, null, ia3);
    }

    public static MethodSpec full() {
        return new MethodSpec(MethodType.FULL, null, null, null, null, null);
    }

    /** The default method: LoRA with default settings. */
    public static MethodSpec defaults() {
        return lora(LoraSpec.defaults());
    }

    /**
     * A copy with the type defaulted to {@code lora} and the block of that type filled with defaults (created when
     * absent). Blocks of other types are kept as they are, so that validation can report them.
     */
    public MethodSpec withDefaults() {
        MethodType t = type != null ? type : DEFAULT_TYPE;
        return new MethodSpec(t,
                t == MethodType.LORA ? (lora != null ? lora : LoraSpec.defaults()).withDefaults() : lora,
                t == MethodType.ADAPTER ? (adapter != null ? adapter : AdapterSpec.defaults()).withDefaults() : adapter,
                t == MethodType.PREFIX ? (prefix != null ? prefix : PrefixSpec.defaults()).withDefaults() : prefix,
                t == MethodType.PROMPT ? (prompt != null ? prompt : PromptSpec.defaults()).withDefaults() : prompt,
                t == MethodType.IA3 ? (ia3 != null ? ia3 : Ia3Spec.defaults()).withDefaults() : ia3);
    }
}
