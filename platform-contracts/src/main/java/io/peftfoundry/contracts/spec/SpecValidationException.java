package io.peftfoundry.contracts.spec;

import io.peftfoundry.contracts.FieldError;

import java.util.List;
import java.util.stream.Collectors;

/** A job spec that cannot be used, with every problem found (not just the first). */
public class SpecValidationException extends IllegalArgumentException {

    private final List<FieldError> errors;

    public SpecValidationException(List<FieldError> errors) {
        super(describe(errors));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a SpecValidationException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    /** Every problem, in document order. */
    public List<FieldError> errors() {
        return errors;
    }

    private static String describe(List<FieldError> errors) {
        return "invalid job spec: " + errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
    }
}
