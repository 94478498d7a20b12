package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/** How prompt-tuning's virtual token embeddings start: random, or copies of randomly chosen vocabulary embeddings. */
public enum PromptInit implements WireEnum {
    RANDOM("random"),
    VOCAB("vocab");

    private final String wire;

    PromptInit(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static PromptInit fromWire(String value) {
        return WireEnum.fromWire(PromptInit.class, value);
    }
}
