package io.peftfoundry.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An RFC 9457 problem detail, the body of every error answer ({@value #MEDIA_TYPE}).
 *
 * @param type     URI reference identifying the kind of problem; {@code about:blank} when the status says it all
 * @param title    short summary of the kind of problem
 * @param status   HTTP status code
 * @param detail   what went wrong this time, for a human
 * @param instance the request path it happened on
 * @param errors   field-level problems (extension member), empty when none
 *
 * <p>Every problem also carries OpenAI's error object as the extension member {@code error} ({@link #error()}), so the
 * official OpenAI clients raise their typed errors with {@code message}, {@code param} and {@code code} filled.
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

    /**
     * The same fault in OpenAI's shape, {@code {"message", "type", "param", "code"}}: {@code message} the detail,
     * {@code type} OpenAI's kind for the status ({@code invalid_request_error} for 400/404/409/413/422,
     * {@code authentication_error} 401, {@code permission_error} 403, {@code rate_limit_error} 429,
     * {@code server_error} 5xx), {@code param} the first field error's field, {@code code} the last segment of
     * {@link #type} ({@code validation}, {@code too-large} …) or, for {@code about:blank}, a word for the status.
     */
    @JsonProperty(value = "error", access = JsonProperty.Access.READ_ONLY)
    public Map<String, Object> error() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", detail != null ? detail : title);
        e.put("type", openAiType(status));
        e.put("param", errors == null || errors.isEmpty() || errors.get(0).field().isEmpty() ? null : errors.get(0).field());
        e.put("code", code());
        return e;
    }

    private String code() {
        if (type != null && !ABOUT_BLANK.equals(type)) {
            String t = type.endsWith("/") ? type.substring(0, type.length() - 1) : type;
            return t.substring(t.lastIndexOf('/') + 1);
        }
        return switch (status) {
            case 400 -> "invalid_request";
            case 401 -> "invalid_api_key";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 409 -> "conflict";
            case 429 -> "rate_limit_exceeded";
            default -> status >= 500 ? "server_error" : null;
        };
    }

    private static String openAiType(int status) {
        if (status == 401) {
            return "authentication_error";
        }
        if (status == 403) {
            return "permission_error";
        }
        if (status == 429) {
            return "rate_limit_error";
        }
        return status >= 500 ? "server_error" : "invalid_request_error";
    }
}
