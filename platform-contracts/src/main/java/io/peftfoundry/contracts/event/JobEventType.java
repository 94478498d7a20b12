package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** Kind of a job event: free text, training metrics, a status change, or a saved checkpoint. */
public enum JobEventType implements WireEnum {
    MESSAGE("message"),
    METRICS("metrics"),
    STATUS("status"),
    CHECKPOINT("checkpoint");

    private final String wire;

    JobEventType(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static JobEventType fromWire(String value) {
        return WireEnum.fromWire(JobEventType.class, value);
    }
}
