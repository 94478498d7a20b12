package io.peftfoundry.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * One problem with a request, naming the field it concerns.
 *
 * @param field   path of the field, dotted with list indexes in brackets, e.g. {@code hyperparameters.learning_rate}
 *                or {@code method.lora.target_modules[1]}; empty when the problem concerns the whole document
 * @param message what is wrong and, where it helps, what is allowed, e.g. {@code must be > 0 and ≤ 1, got 5.0}
 * @param line    1-based line of an uploaded file (a dataset's JSONL) the problem is on; null when not about a line
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FieldError(String field, String message, Long line) {

    public FieldError {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(message, "message");
    }

    public FieldError(String field, String message) {
        this(field, message, null);
    }

    @Override
    public String toString() {
        return field.isEmpty() ? message : field + ": " + message;
    }
}
