package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** Learning-rate schedule after warm-up: linear decay to zero, or cosine decay to zero. */
public enum Scheduler implements WireEnum {
    LINEAR("linear"),
    COSINE("cosine");

    private final String wire;

    Scheduler(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Scheduler fromWire(String value) {
        return WireEnum.fromWire(Scheduler.class, value);
    }
}
