package io.peftfoundry.jobapi.rest;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;

import java.util.List;

/** An error answer: becomes an RFC 9457 problem+json body with this status. */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String type;
    private final String title;
    private final List<FieldError> errors;

    public ProblemException(int status, String type, String title, String detail, List<FieldError> errors) {
        super(detail);
        this.status = status;
        this.type = type;
        this.title = title;
        this.errors = errors;
    }

    public static ProblemException unauthorized(String detail) {
        return new ProblemException(401, Problem.ABOUT_BLANK, "Unauthorized", detail, null);
    }

    public static ProblemException forbidden(String detail) {
        return new ProblemException(403, Problem.ABOUT_BLANK, "Forbidden", detail, null);
    }

    public static ProblemException notFound(String what, String id) {
        return new ProblemException(404, Problem.ABOUT_BLANK, "Not found", "no " + what + " '" + id + "'", null);
    }

    public static ProblemException conflict(String detail) {
        return new ProblemException(409, Problem.ABOUT_BLANK, "Conflict", detail, null);
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid request", detail, null);
    }

    /** 400 listing every bad field of a job spec (or of its references to artifacts). */
    public static ProblemException invalidSpec(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? "1 field is invalid: " + errors.get(0)
                : errors.size() + " fields are invalid; see errors";
        return new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid job spec", detail, errors);
    }

    public int status() {
        return status;
    }

    public Problem toProblem(String instance) {
        return new Problem(type, title, status, getMessage(), instance, errors);
    }
}
