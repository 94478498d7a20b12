package io.peftfoundry.jobapi.auth;

import io.peftfoundry.contracts.Problem;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.sql.SQLException;
import java.util.Optional;

/** Every {@code /v1} request needs {@code Authorization: Bearer <key>} of a known key; otherwise 401 problem+json. */
public class BearerAuthFilter {

    private final ApiKeys keys;
    private final CurrentCaller current;

    public BearerAuthFilter(ApiKeys keys, CurrentCaller current) {
        this.keys = keys;
        this.current = current;
    }

    @ServerRequestFilter
    public Optional<Response> authenticate(ContainerRequestContext request) throws SQLException {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/v1/") && !path.equals("/v1")) {
            return Optional.empty();
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
            return Optional.of(unauthorized(path, "an API key is required: Authorization: Bearer <key>"));
        }
        String secret = header.substring(7).trim();
        Optional<Caller> caller = keys.resolve(secret);
        if (caller.isEmpty()) {
            return Optional.of(unauthorized(path, "unknown or revoked API key"));
        }
        current.set(caller.get(), secret);
        return Optional.empty();
    }

    private static Response unauthorized(String path, String detail) {
        return Response.status(401).type(Problem.MEDIA_TYPE)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .entity(Problem.of(401, "Unauthorized", detail, path)).build();
    }
}
