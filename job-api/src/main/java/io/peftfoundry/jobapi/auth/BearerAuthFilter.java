package io.peftfoundry.jobapi.auth;

import io.peftfoundry.contracts.Problem;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.sql.SQLException;
import java.util.Optional;

/**
 * Every {@code /v1} request needs {@code Authorization: Bearer <key>} of a known key; otherwise 401 problem+json.
 *
 * <p>{@value #ON_BEHALF_OF}: the platform's service key (the bootstrap admin key {@code FOUNDRY_ADMIN_KEY}, which
 * eval-service and the workers hold) may name an existing tenant and the request then runs as that tenant — its jobs,
 * its idempotency keys, its 404s — without admin rights. Any other key sending the header gets 403; a malformed or
 * unknown tenant gets 400.
 */
public class BearerAuthFilter {

    public static final String ON_BEHALF_OF = "Foundry-On-Behalf-Of";
    private static final java.util.regex.Pattern TENANT = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(BearerAuthFilter.class);

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
        String onBehalfOf = request.getHeaderString(ON_BEHALF_OF);
        if (onBehalfOf == null) {
            current.set(caller.get(), secret);
            return Optional.empty();
        }
        if (!AdminKeyBootstrap.BOOTSTRAP_KEY_ID.equals(caller.get().keyId())) {
            return Optional.of(problem(403, "Forbidden", path, ON_BEHALF_OF + " is accepted from the platform's service"
                    + " key only (FOUNDRY_ADMIN_KEY); key " + caller.get().keyId() + " acts for its own tenant: drop the header"));
        }
        String target = onBehalfOf.trim();
        if (!TENANT.matcher(target).matches()) {
            return Optional.of(problem(400, "Bad Request", path, ON_BEHALF_OF + " must be a tenant id"
                    + " (letters, digits, '.', '_', '-'), got '" + onBehalfOf + "'"));
        }
        if (!keys.tenantExists(target)) {
            return Optional.of(problem(400, "Bad Request", path, ON_BEHALF_OF + " names tenant '" + target
                    + "', which does not exist (GET /v1/admin/tenants lists them)"));
        }
        Caller acting = caller.get().actingFor(target);
        LOG.debugf("key %s acts for tenant %s on %s %s", acting.keyId(), target, request.getMethod(), path);
        current.set(acting, secret);
        return Optional.empty();
    }

    private static Response problem(int status, String title, String path, String detail) {
        return Response.status(status).type(Problem.MEDIA_TYPE).entity(Problem.of(status, title, detail, path)).build();
    }

    private static Response unauthorized(String path, String detail) {
        return Response.status(401).type(Problem.MEDIA_TYPE)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .entity(Problem.of(401, "Unauthorized", detail, path)).build();
    }
}
