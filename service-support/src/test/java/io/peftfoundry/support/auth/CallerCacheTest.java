package io.peftfoundry.support.auth;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The auth cache is bounded and forgets: finding 4 of issue 14 (unknown keys were kept forever). */
class CallerCacheTest {

    private static AuthConfig config(long maxSize, Duration positive, Duration negative, String staticKeys) {
        return new AuthConfig() {
            public Duration cacheTtl() { return positive; }
            public Duration negativeCacheTtl() { return negative; }
            public long cacheMaxSize() { return maxSize; }
            public Optional<String> staticKeys() { return Optional.ofNullable(staticKeys); }
        };
    }

    /** Knows one key, "good" of tenant acme; counts how often it is asked. */
    private static final class CountingResolver implements CallerResolver {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public Optional<Caller> resolve(String bearerKey, String onBehalfOf) {
            calls.incrementAndGet();
            return "good".equals(bearerKey) ? Optional.of(new Caller("acme", "key-1", false)) : Optional.empty();
        }
    }

    @Test
    void aFloodOfUnknownKeysKeepsAtMostMaxSizeEntries() {
        CountingResolver resolver = new CountingResolver();
        CallerCache cache = new CallerCache(resolver, config(50, Duration.ofMinutes(1), Duration.ofMinutes(1), null));
        for (int i = 0; i < 5_000; i++) {
            assertTrue(cache.resolve("flood-" + i, null).isEmpty());
        }
        assertTrue(cache.size() <= 50, "entries held: " + cache.size());
        assertEquals(5_000, resolver.calls.get(), "each distinct unknown key is asked once");
    }

    @Test
    void aKnownKeyIsAskedOncePerTtlAndAnUnknownOneOncePerNegativeTtl() throws InterruptedException {
        CountingResolver resolver = new CountingResolver();
        CallerCache cache = new CallerCache(resolver, config(100, Duration.ofMinutes(10), Duration.ofMillis(200), null));
        for (int i = 0; i < 10; i++) {
            assertEquals("acme", cache.resolve("good", null).orElseThrow().tenant());
            assertTrue(cache.resolve("bad", null).isEmpty());
        }
        assertEquals(2, resolver.calls.get(), "one lookup each while cached");
        Thread.sleep(400); // past the negative TTL (200 ms), far inside the positive one (10 min)
        cache.resolve("good", null);
        cache.resolve("bad", null);
        assertEquals(3, resolver.calls.get(), "only the unknown key is asked again");
    }

    @Test
    void aRevokedKeyStopsResolvingOnceItsTtlHasPassed() throws InterruptedException {
        AtomicInteger revoked = new AtomicInteger();
        CallerResolver resolver = (key, onBehalfOf) -> revoked.get() == 0
                ? Optional.of(new Caller("acme", "key-1", false)) : Optional.empty();
        CallerCache cache = new CallerCache(resolver, config(100, Duration.ofMillis(300), Duration.ofMillis(300), null));
        assertTrue(cache.resolve("k", null).isPresent());
        revoked.set(1);
        Thread.sleep(500);
        assertTrue(cache.resolve("k", null).isEmpty(), "a revoked key is refused after cache-ttl");
    }

    @Test
    void staticKeysNeedNoLookupAndAdminTenantKeysAreAdmin() {
        CountingResolver resolver = new CountingResolver();
        CallerCache cache = new CallerCache(resolver, config(10, Duration.ofMinutes(1), Duration.ofSeconds(1),
                "k-a=tenant-a, k-root=admin"));
        assertEquals("tenant-a", cache.resolve("k-a", null).orElseThrow().tenant());
        assertTrue(cache.resolve("k-root", null).orElseThrow().admin());
        assertEquals(0, resolver.calls.get());
    }

    @Test
    void aStaticPlatformKeyActsForATenantLocallyAndATenantKeyMayNot() {
        CountingResolver resolver = new CountingResolver();
        CallerCache cache = new CallerCache(resolver, config(10, Duration.ofMinutes(1), Duration.ofSeconds(1),
                "k-a=tenant-a, k-root=admin"));
        Caller acting = cache.resolve("k-root", "tenant-a").orElseThrow();
        assertEquals("tenant-a", acting.tenant());
        assertEquals("admin", acting.actingFrom());
        assertTrue(!acting.admin() && !acting.platform(), "acting grants the tenant's rights only");
        io.peftfoundry.support.problem.ProblemException refused = org.junit.jupiter.api.Assertions.assertThrows(
                io.peftfoundry.support.problem.ProblemException.class, () -> cache.resolve("k-a", "tenant-b"));
        assertEquals(403, refused.status());
        assertEquals(0, resolver.calls.get());
    }
}
