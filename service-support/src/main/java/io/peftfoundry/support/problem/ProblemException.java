package io.peftfoundry.support.problem;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import jakarta.ws.rs.core.Response;

import java.util.List;

/**
 * An error answer: becomes an RFC 9457 {@link Problem} with this status ({@link ProblemMappers}). {@code type} is
 * {@code about:blank} when the status says it all, {@code /problems/<slug>} for a kind of fault clients branch on.
 */
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

    /** A problem whose status says it all ({@code about:blank}). */
    public ProblemException(int status, String title, String detail) {
        this(status, Problem.ABOUT_BLANK, title, detail, null);
    }

    /** A problem of kind {@code /problems/<slug>}. */
    public static ProblemException typed(int status, String slug, String title, String detail) {
        return new ProblemException(status, typeUri(slug), title, detail, null);
    }

    public static String typeUri(String slug) {
        return "/problems/" + slug;
    }

    public static ProblemException unauthorized(String detail) {
        return new ProblemException(401, "Unauthorized", detail);
    }

    public static ProblemException forbidden(String detail) {
        return new ProblemException(403, "Forbidden", detail);
    }

    public static ProblemException notFound(String what, String id) {
        return new ProblemException(404, "Not found", "no " + what + " '" + id + "'");
    }

    public static ProblemException conflict(String detail) {
        return new ProblemException(409, "Conflict", detail);
    }

    /** 400 for a request that failed validation. */
    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid request", detail, null);
    }

    /** 400 of kind {@code /problems/<slug>}, listing the individual faults (lines of a dataset, files of a zip). */
    public static ProblemException badRequest(String slug, String detail, List<FieldError> errors) {
        return new ProblemException(400, typeUri(slug), "Bad request", detail, errors);
    }

    public static ProblemException badRequest(String slug, String detail) {
        return badRequest(slug, detail, null);
    }

    /** 413: an upload or one of its parts is bigger than allowed. */
    public static ProblemException tooLarge(String detail) {
        return new ProblemException(413, typeUri("too-large"), "Payload too large", detail, null);
    }

    /** 400 listing every bad field of a job spec (or of its references to artifacts). */
    public static ProblemException invalidSpec(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? "1 field is invalid: " + errors.get(0)
                : errors.size() + " fields are invalid; see errors";
        return new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid job spec", detail, errors);
    }

    /** 503: a service this one depends on did not answer; worth retrying. */
    public static ProblemException unavailable(String detail) {
        return new ProblemException(503, "Service unavailable", detail);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public String type() {
        return type;
    }

    public List<FieldError> errors() {
        return errors;
    }

    public Problem toProblem(String instance) {
        return new Problem(type, title, status, getMessage(), instance, errors);
    }

    public static Response respond(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem).build();
    }
}
