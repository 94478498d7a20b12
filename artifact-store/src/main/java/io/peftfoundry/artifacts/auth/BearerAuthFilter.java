package io.peftfoundry.artifacts.auth;

import io.peftfoundry.artifacts.rest.ProblemException;
import io.peftfoundry.artifacts.rest.ProblemMappers;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Every /v1 request carries {@code Authorization: Bearer <key>}; the key's tenant scopes the request. */
public class BearerAuthFilter {

    private final TenantResolver resolver;
    private final CurrentCaller current;

    public BearerAuthFilter(TenantResolver resolver, CurrentCaller current) {
        this.resolver = resolver;
        this.current = current;
    }

    @ServerRequestFilter
    public Response authenticate(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/v1/")) {
            return null;
        }
        try {
            String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
            if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
                throw TenantResolver.unauthorized("missing bearer API key");
            }
            current.set(resolver.resolve(header.substring(7).trim()));
            return null;
        } catch (ProblemException e) {
            return ProblemMappers.respond(e.toProblem());
        }
    }
}
