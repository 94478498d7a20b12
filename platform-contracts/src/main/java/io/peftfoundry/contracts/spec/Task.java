package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** What the job trains the backbone to do; decides the training file format and the loss. */
public enum Task implements WireEnum {
    CLASSIFICATION("classification"),
    SFT("sft"),
    CONTINUED_PRETRAINING("continued_pretraining");

    private final String wire;

    Task(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Task fromWire(String value) {
        return WireEnum.fromWire(Task.class, value);
    }
}
