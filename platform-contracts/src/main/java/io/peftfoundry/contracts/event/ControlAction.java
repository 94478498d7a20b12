package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** What job-api asks a trainer worker to do with a running job (resuming is a new {@code JobRequested} with {@code resume_from}). */
public enum ControlAction implements WireEnum {
    CANCEL("cancel"),
    PAUSE("pause");

    private final String wire;

    ControlAction(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static ControlAction fromWire(String value) {
        return WireEnum.fromWire(ControlAction.class, value);
    }
}
