package io.peftfoundry.artifacts.rest;

import java.util.List;

/** A user-facing failure that becomes an RFC 9457 problem+json response. */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String type;
    private final String title;
    private final List<Problem.FieldError> errors;

    public ProblemException(int status, String type, String title, String detail, List<Problem.FieldError> errors) {
        super(detail);
        this.status = status;
        this.type = type;
        this.title = title;
        this.errors = errors;
    }

    public ProblemException(int status, String type, String title, String detail) {
        this(status, type, title, detail, null);
    }

    public static ProblemException badRequest(String type, String detail, List<Problem.FieldError> errors) {
        return new ProblemException(400, type, "Bad request", detail, errors);
    }

    public static ProblemException badRequest(String type, String detail) {
        return badRequest(type, detail, null);
    }

    public static ProblemException notFound(String what, String id) {
        return new ProblemException(404, "not-found", "Not found", what + " '" + id + "' does not exist");
    }

    public Problem toProblem() {
        return new Problem("/problems/" + type, title, status, getMessage(), errors);
    }

    public int status() {
        return status;
    }
}
