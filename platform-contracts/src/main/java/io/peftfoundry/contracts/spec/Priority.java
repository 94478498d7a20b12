package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/**
 * A job's place in the queue: every queued {@code high} job is claimed before any {@code normal} one, every
 * {@code normal} before any {@code low}; within one priority queued work is shared fairly between tenants.
 */
public enum Priority implements WireEnum {
    HIGH("high", 0),
    NORMAL("normal", 1),
    LOW("low", 2);

    private final String wire;
    private final int rank;

    Priority(String wire, int rank) {
        this.wire = wire;
        this.rank = rank;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    /** 0 for {@code high}, 1 for {@code normal}, 2 for {@code low}: claim order, smallest first. */
    public int rank() {
        return rank;
    }

    @JsonCreator
    public static Priority fromWire(String value) {
        return WireEnum.fromWire(Priority.class, value);
    }
}
