package io.peftfoundry.artifacts.auth;

import io.peftfoundry.artifacts.config.AuthConfig;
import io.peftfoundry.artifacts.rest.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves a bearer key to its caller: first the static keys from configuration (the bootstrap
 * admin key, test tenants), then job-api introspection, whose positive answers are cached.
 */
@ApplicationScoped
public class TenantResolver {

    private static final Logger LOG = Logger.getLogger(TenantResolver.class);

    private final Map<String, Caller> staticKeys = new HashMap<>();
    private final Map<String, CachedCaller> cache = new ConcurrentHashMap<>();
    private final JobApiWhoamiClient whoami;
    private final long ttlMillis;

    private record CachedCaller(Caller caller, long expiresAtMillis) {
    }

    public TenantResolver(AuthConfig config, JobApiWhoamiClient whoami) {
        this.whoami = whoami;
        this.ttlMillis = config.cacheTtl().toMillis();
        config.staticKeys().ifPresent(list -> {
            for (String pair : list.split(",")) {
                String trimmed = pair.trim();
                if (trimmed.isEmpty()) {
                    continue;
                }
                int eq = trimmed.lastIndexOf('=');
                if (eq <= 0 || eq == trimmed.length() - 1) {
                    throw new IllegalArgumentException("foundry.auth.static-keys: expected key=tenant, got an entry without '='");
                }
                String tenant = trimmed.substring(eq + 1).trim();
                staticKeys.put(trimmed.substring(0, eq).trim(),
                        new Caller(tenant, "static:" + tenant, Caller.ADMIN_TENANT.equals(tenant)));
            }
        });
        config.adminKey().filter(k -> !k.isBlank()).ifPresent(k ->
                staticKeys.put(k.trim(), new Caller(Caller.ADMIN_TENANT, "bootstrap-admin", true)));
        LOG.infof("tenant resolver: %d static key(s), job-api introspection at %s", staticKeys.size(), config.jobApiUrl());
    }

    /** @throws ProblemException 401 for an unknown key, 503 when job-api cannot be asked */
    public Caller resolve(String bearerKey) {
        Caller known = staticKeys.get(bearerKey);
        if (known != null) {
            return known;
        }
        String cacheKey = sha256(bearerKey);
        CachedCaller cached = cache.get(cacheKey);
        long now = System.currentTimeMillis();
        if (cached != null && cached.expiresAtMillis() > now) {
            return cached.caller();
        }
        Optional<Caller> answer;
        try {
            answer = whoami.whoami(bearerKey);
        } catch (IOException e) {
            LOG.warnf("cannot verify API key with job-api: %s", e.getMessage());
            throw new ProblemException(503, "auth-unavailable", "Service unavailable",
                    "the API key could not be verified because job-api did not answer; retry shortly");
        }
        if (answer.isEmpty()) {
            cache.remove(cacheKey);
            throw unauthorized("the API key is not known");
        }
        cache.put(cacheKey, new CachedCaller(answer.get(), now + ttlMillis));
        return answer.get();
    }

    public static ProblemException unauthorized(String detail) {
        return new ProblemException(401, "unauthorized", "Unauthorized",
                detail + "; send 'Authorization: Bearer <api key>'");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
