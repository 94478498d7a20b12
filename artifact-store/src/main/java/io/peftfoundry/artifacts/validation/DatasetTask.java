package io.peftfoundry.artifacts.validation;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The three dataset formats of the job spec's {@code task}. */
public enum DatasetTask {
    CLASSIFICATION("classification", List.of("text", "label")),
    SFT("sft", List.of("prompt", "completion")),
    CONTINUED_PRETRAINING("continued_pretraining", List.of("text"));

    private final String wireName;
    private final List<String> requiredFields;

    DatasetTask(String wireName, List<String> requiredFields) {
        this.wireName = wireName;
        this.requiredFields = requiredFields;
    }

    public String wireName() {
        return wireName;
    }

    public List<String> requiredFields() {
        return requiredFields;
    }

    public static Optional<DatasetTask> fromWire(String name) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
    }

    public static String allowed() {
        return "classification, sft, continued_pretraining";
    }
}
