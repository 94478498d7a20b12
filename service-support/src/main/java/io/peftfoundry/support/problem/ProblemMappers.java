package io.peftfoundry.support.problem;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import io.peftfoundry.support.client.ServiceCallException;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.List;

/** Every error leaves every service as application/problem+json ({@link Problem}). */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    private final String service;

    public ProblemMappers(@ConfigProperty(name = "quarkus.application.name", defaultValue = "service") String service) {
        this.service = service;
    }

    @ServerExceptionMapper
    public Response problem(ProblemException e, UriInfo uri) {
        return ProblemException.respond(e.toProblem(uri.getPath()));
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, UriInfo uri) {
        int status = e.getResponse().getStatus();
        if (status == 404 && e.getCause() != null && !(e.getCause() instanceof WebApplicationException)) {
            return unreadableParameter(e.getCause(), uri);
        }
        Response.Status known = Response.Status.fromStatusCode(status);
        return ProblemException.respond(Problem.of(status, known == null ? "Error" : known.getReasonPhrase(),
                e.getMessage(), uri.getPath()));
    }

    /**
     * A query or path parameter that could not be converted to its type ({@code ?limit=abc}): JAX-RS answers that with
     * a bare 404, as if the resource did not exist; it is a 400 naming the parameter whose value the conversion
     * refused (the one whose value the converter's message quotes), or all of them when none is quoted.
     */
    private static Response unreadableParameter(Throwable cause, UriInfo uri) {
        String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        String field = uri.getQueryParameters().entrySet().stream()
                .filter(p -> p.getValue().stream().anyMatch(v -> why.contains("\"" + v + "\"")))
                .map(java.util.Map.Entry::getKey).findFirst().orElse("");
        FieldError error = new FieldError(field, (field.isEmpty() ? "a query or path parameter" : "the value")
                + " could not be read as its type (" + why + ")");
        return ProblemException.respond(new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid request",
                error.toString(), List.of(error)).toProblem(uri.getPath()));
    }

    /** Another service refused or did not answer after the client's retries: 502/503, naming it. */
    @ServerExceptionMapper
    public Response upstream(ServiceCallException e, UriInfo uri) {
        LOG.warnf("%s: %s", uri.getPath(), e.getMessage());
        int status = e.transientFailure() ? 503 : 502;
        return ProblemException.respond(new Problem(ProblemException.typeUri("upstream"),
                status == 503 ? "Service unavailable" : "Bad gateway", status, e.getMessage() + "; retry later",
                uri.getPath(), null));
    }

    /** Another service could not be reached at all (connection refused, timed out) after the client's retries. */
    @ServerExceptionMapper
    public Response unreachable(ProcessingException e, UriInfo uri) {
        LOG.warnf("%s: a service did not answer: %s", uri.getPath(), e.getMessage());
        return ProblemException.respond(new Problem(ProblemException.typeUri("upstream"), "Service unavailable", 503,
                "a service this request needs did not answer (" + e.getMessage() + "); retry later", uri.getPath(), null));
    }

    /**
     * A checked I/O failure a resource let through (object storage or a file failed mid-request). Without this mapper
     * RESTEasy Reactive answers its own 500 body and logs an IOException at DEBUG only (it takes it for a client that
     * went away), so a storage failure left no trace in the service's log.
     */
    @ServerExceptionMapper
    public Response io(java.io.IOException e, UriInfo uri) {
        LOG.warnf(e, "I/O failure on %s", uri.getPath());
        return ProblemException.respond(Problem.of(500, "Internal error", "an I/O operation failed ("
                + e.getClass().getSimpleName() + "); retry later, and see the " + service + " log if it persists",
                uri.getPath()));
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e, UriInfo uri) {
        LOG.errorf(e, "unexpected error on %s", uri.getPath());
        return ProblemException.respond(Problem.of(500, "Internal error", "unexpected error: "
                + e.getClass().getSimpleName() + "; see the " + service + " log", uri.getPath()));
    }
}
