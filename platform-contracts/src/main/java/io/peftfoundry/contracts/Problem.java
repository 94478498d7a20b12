package io.peftfoundry.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * An RFC 9457 problem detail, the body of every error answer ({@value #MEDIA_TYPE}).
 *
 * @param type     URI reference identifying the kind of problem; {@code about:blank} when the status says it all
 * @param title    short summary of the kind of problem
 * @param status   HTTP status code
 * @param detail   what went wrong this time, for a human
 * @param instance the request path it happened on
 * @param errors   field-level problems (extension member), empty when none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance, List<FieldError> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";
    public static final String ABOUT_BLANK = "about:blank";
    /** {@link #type} of a request whose body or parameters failed validation. */
    public static final String TYPE_VALIDATION = "https://peftfoundry.io/problems/validation";

    public Problem {
        errors = errors == null ? null : List.copyOf(errors);
    }

    /** A problem with no field errors and type {@code about:blank}. */
    public static Problem of(int status, String title, String detail, String instance) {
        return new Problem(ABOUT_BLANK, title, status, detail, instance, null);
    }

    /** A 422 answer listing every field error. */
    public static Problem validation(List<FieldError> errors, String instance) {
        String detail = errors.size() == 1
                ? "1 field is invalid: " + errors.get(0)
                : errors.size() + " fields are invalid; see errors";
        return new Problem(TYPE_VALIDATION, "Invalid request", 422, detail, instance, errors);
    }
}
