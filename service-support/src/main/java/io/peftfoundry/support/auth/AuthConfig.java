package io.peftfoundry.support.auth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Bearer-key authentication of the {@code /v1} API ({@code foundry.auth.*}). */
@ConfigMapping(prefix = "foundry.auth")
public interface AuthConfig {

    /**
     * How long a resolved key is trusted without asking again: also how long a revoked key keeps working on a service
     * that cached it.
     */
    @WithDefault("5s")
    Duration cacheTtl();

    /** How long "unknown key" is remembered (a flood of one bad key then costs one lookup per this period). */
    @WithDefault("1s")
    Duration negativeCacheTtl();

    /** Most keys (and key/tenant pairs) kept; the least recently used beyond it are dropped. */
    @WithDefault("10000")
    long cacheMaxSize();

    /**
     * Comma list of {@code key=tenant} pairs accepted without asking the key authority (test tenants); a key of tenant
     * {@code admin} is an admin key.
     */
    Optional<String> staticKeys();
}
