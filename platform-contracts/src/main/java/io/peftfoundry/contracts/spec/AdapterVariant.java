package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** Where a bottleneck adapter sits: after attention and FFN (Houlsby), after the FFN only (Pfeiffer), or beside the FFN (parallel). */
public enum AdapterVariant implements WireEnum {
    HOULSBY("houlsby"),
    PFEIFFER("pfeiffer"),
    PARALLEL("parallel");

    private final String wire;

    AdapterVariant(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static AdapterVariant fromWire(String value) {
        return WireEnum.fromWire(AdapterVariant.class, value);
    }
}
