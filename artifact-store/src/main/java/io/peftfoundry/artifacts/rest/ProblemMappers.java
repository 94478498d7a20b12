package io.peftfoundry.artifacts.rest;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error leaves the service as problem+json. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        return respond(e.toProblem());
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        String title = e.getResponse().getStatusInfo().getReasonPhrase();
        return respond(new Problem("/problems/http-" + status, title, status, e.getMessage(), null));
    }

    /** Storage or database I/O that failed (S3 unreachable, refused a put …): the operator must look. */
    @ServerExceptionMapper
    public Response storage(java.io.IOException e) {
        LOG.error("storage I/O failed", e);
        return respond(new Problem("/problems/storage-unavailable", "Bad gateway", 502,
                "the object store or database failed: " + e.getMessage() + "; retry later", null));
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("unexpected error", e);
        return respond(new Problem("/problems/internal", "Internal error", 500,
                "the artifact store failed: " + e.getMessage(), null));
    }

    public static Response respond(Problem p) {
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(p).build();
    }
}
