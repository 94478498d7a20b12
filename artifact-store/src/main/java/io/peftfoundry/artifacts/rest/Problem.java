package io.peftfoundry.artifacts.rest;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * RFC 9457 problem details. {@code errors} lists individual faults, e.g. the offending lines of a
 * rejected dataset: {@code {"line": 7, "field": "label", "message": "missing"}}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, List<FieldError> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FieldError(Long line, String field, String message) {
        public static FieldError of(String field, String message) {
            return new FieldError(null, field, message);
        }
    }
}
