package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/**
 * Status of a fine-tuning job: {@code validating_files → queued → running → succeeded | failed | cancelled}, and
 * {@code paused} (from running, back to queued on resume).
 */
public enum JobStatus implements WireEnum {
    VALIDATING_FILES("validating_files"),
    QUEUED("queued"),
    RUNNING("running"),
    SUCCEEDED("succeeded"),
    FAILED("failed"),
    CANCELLED("cancelled"),
    PAUSED("paused");

    private final String wire;

    JobStatus(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    /** True for succeeded, failed and cancelled: the job will not change any more. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    @JsonCreator
    public static JobStatus fromWire(String value) {
        return WireEnum.fromWire(JobStatus.class, value);
    }
}
