package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** The parameter-efficient method, or {@code full} (every weight trainable: the baseline). */
public enum MethodType implements WireEnum {
    LORA("lora"),
    ADAPTER("adapter"),
    PREFIX("prefix"),
    PROMPT("prompt"),
    IA3("ia3"),
    FULL("full");

    private final String wire;

    MethodType(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static MethodType fromWire(String value) {
        return WireEnum.fromWire(MethodType.class, value);
    }
}
