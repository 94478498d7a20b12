package io.peftfoundry.eval.auth;

import io.peftfoundry.eval.client.JobApiClient;
import io.peftfoundry.eval.config.EvalConfig;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Instance;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import io.peftfoundry.contracts.Problem;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code /v1/*} needs {@code Authorization: Bearer <api key>}; the key's tenant comes from job-api's
 * {@code GET /v1/auth/whoami}, cached for {@code foundry.eval.auth-cache-ttl}. Unknown key → 401; job-api
 * unreachable → 503.
 */
@Provider
@Priority(Priorities.AUTHENTICATION)
public class BearerAuthFilter implements ContainerRequestFilter {

    private static final Logger LOG = Logger.getLogger(BearerAuthFilter.class);

    private record Cached(Optional<JobApiClient.Caller> caller, long expiresNanos) {}

    private final JobApiClient jobApi;
    /** Instance: filters are built at static init, before runtime config mappings exist. */
    private final Instance<EvalConfig> config;
    private final CurrentCaller current;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    public BearerAuthFilter(JobApiClient jobApi, Instance<EvalConfig> config, CurrentCaller current) {
        this.jobApi = jobApi;
        this.config = config;
        this.current = current;
    }

    @Override
    public void filter(ContainerRequestContext ctx) {
        String path = ctx.getUriInfo().getPath();
        if (!path.startsWith("/v1/") && !path.startsWith("v1/")) {
            return;
        }
        String header = ctx.getHeaderString("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
            ctx.abortWith(problem(401, "Unauthorized", "send Authorization: Bearer <api key>"));
            return;
        }
        String key = header.substring(7).trim();
        Cached c = cache.get(key);
        if (c == null || c.expiresNanos() < System.nanoTime()) {
            try {
                c = new Cached(jobApi.whoami(key), System.nanoTime() + config.get().authCacheTtl().toNanos());
                cache.put(key, c);
            } catch (IOException e) {
                LOG.warnf("whoami at job-api failed: %s", e.getMessage());
                ctx.abortWith(problem(503, "Service Unavailable", "job-api could not check the API key: " + e.getMessage()));
                return;
            }
        }
        if (c.caller().isEmpty()) {
            ctx.abortWith(problem(401, "Unauthorized", "unknown API key"));
            return;
        }
        current.set(c.caller().get(), key);
    }

    private static Response problem(int status, String title, String detail) {
        return Response.status(status).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.ABOUT_BLANK, title, status, detail, null, null)).build();
    }
}
