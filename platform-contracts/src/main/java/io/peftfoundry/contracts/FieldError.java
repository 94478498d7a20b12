package io.peftfoundry.contracts;

import java.util.Objects;

/**
 * One problem with a request, naming the field it concerns.
 *
 * @param field   path of the field, dotted with list indexes in brackets, e.g. {@code hyperparameters.learning_rate}
 *                or {@code method.lora.target_modules[1]}; empty when the problem concerns the whole document
 * @param message what is wrong and, where it helps, what is allowed, e.g. {@code must be > 0 and ≤ 1, got 5.0}
 */
public record FieldError(String field, String message) {

    public FieldError {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return field.isEmpty() ? message : field + ": " + message;
    }
}
