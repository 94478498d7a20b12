package io.peftfoundry.eval.rest;

import io.peftfoundry.contracts.Problem;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** {@link ProblemException} → {@code application/problem+json}. */
@Provider
public class ProblemMapper implements ExceptionMapper<ProblemException> {

    @Override
    public Response toResponse(ProblemException e) {
        return problem(e.status(), e.title(), e.getMessage());
    }

    static Response problem(int status, String title, String detail) {
        Problem body = new Problem(Problem.ABOUT_BLANK, title, status, detail, null, null);
        return Response.status(status).type(Problem.MEDIA_TYPE).entity(body).build();
    }
}
