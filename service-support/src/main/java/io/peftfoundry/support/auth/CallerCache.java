package io.peftfoundry.support.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.peftfoundry.support.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * The bounded, expiring memory of resolved keys (Caffeine): at most {@code foundry.auth.cache-max-size} entries, a
 * known key trusted for {@code cache-ttl} (so a revoked key stops working within that time everywhere), an unknown key
 * remembered for {@code negative-cache-ttl} only. Keys are held as their SHA-256, never as the secret. Errors (job-api
 * unreachable, a refused {@code Foundry-On-Behalf-Of}) are not cached.
 */
@ApplicationScoped
public class CallerCache {

    private static final Logger LOG = Logger.getLogger(CallerCache.class);

    private final CallerResolver resolver;
    private final Map<String, Caller> staticKeys = new HashMap<>();
    private final Cache<String, Optional<Caller>> cache;

    public CallerCache(CallerResolver resolver, AuthConfig config) {
        this.resolver = resolver;
        long positiveNanos = config.cacheTtl().toNanos();
        long negativeNanos = config.negativeCacheTtl().toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(config.cacheMaxSize())
                .expireAfter(Expiry.<String, Optional<Caller>>creating(
                        (key, caller) -> java.time.Duration.ofNanos(caller.isPresent() ? positiveNanos : negativeNanos)))
                .build();
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
            LOG.infof("%d static API key(s) configured", staticKeys.size());
        });
    }

    /** The caller of {@code bearerKey} acting for {@code onBehalfOf} (null: for its own tenant); empty when unknown. */
    public Optional<Caller> resolve(String bearerKey, String onBehalfOf) {
        Caller known = staticKeys.get(bearerKey);
        if (known != null) {
            if (onBehalfOf == null) {
                return Optional.of(known);
            }
            if (!known.platform()) {
                throw ProblemException.forbidden(BearerAuthFilter.ON_BEHALF_OF + " is accepted from the platform's"
                        + " service keys only; key " + known.keyId() + " acts for its own tenant: drop the header");
            }
            return Optional.of(known.actingFor(onBehalfOf));
        }
        String cacheKey = sha256Hex(bearerKey) + (onBehalfOf == null ? "" : "|" + onBehalfOf);
        Optional<Caller> cached = cache.getIfPresent(cacheKey);
        if (cached != null) {
            return cached;
        }
        Optional<Caller> answer = resolver.resolve(bearerKey, onBehalfOf);
        cache.put(cacheKey, answer);
        return answer;
    }

    /** Forgets every cached answer (after a key is revoked here, so this service stops trusting it at once). */
    public void invalidateAll() {
        cache.invalidateAll();
    }

    /** Entries held now (for tests of the bound). */
    public long size() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    public static String sha256Hex(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
