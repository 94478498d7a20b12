package io.peftfoundry.support.auth;

import io.peftfoundry.contracts.Problem;
import io.peftfoundry.support.problem.ProblemException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Optional;

/**
 * Every {@code /v1} request needs {@code Authorization: Bearer <key>} of a known, unrevoked key; otherwise 401
 * problem+json. Paths outside {@code /v1} (the console's pages, {@code /q/*}) are not this filter's business.
 *
 * <p>{@value #ON_BEHALF_OF}: a platform service key may name an existing tenant and the request then runs as that
 * tenant, without the key's own rights; the key authority (job-api) decides, so every service applies the same rule.
 */
public class BearerAuthFilter {

    public static final String ON_BEHALF_OF = "Foundry-On-Behalf-Of";

    private final CallerCache callers;
    private final CurrentCaller current;

    public BearerAuthFilter(CallerCache callers, CurrentCaller current) {
        this.callers = callers;
        this.current = current;
    }

    @ServerRequestFilter
    public Optional<Response> authenticate(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/v1/") && !path.equals("/v1")) {
            return Optional.empty();
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
            return Optional.of(unauthorized(path, "an API key is required: Authorization: Bearer <key>"));
        }
        String secret = header.substring(7).trim();
        String onBehalfOf = request.getHeaderString(ON_BEHALF_OF);
        try {
            Optional<Caller> caller = callers.resolve(secret, onBehalfOf == null ? null : onBehalfOf.trim());
            if (caller.isEmpty()) {
                return Optional.of(unauthorized(path, "unknown or revoked API key"));
            }
            current.set(caller.get(), secret);
            return Optional.empty();
        } catch (ProblemException e) {
            return Optional.of(ProblemException.respond(e.toProblem(path)));
        }
    }

    private static Response unauthorized(String path, String detail) {
        return Response.status(401).type(Problem.MEDIA_TYPE)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .entity(Problem.of(401, "Unauthorized", detail, path)).build();
    }
}
