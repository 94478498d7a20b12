package io.peftfoundry.artifacts.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** How bearer API keys resolve to tenants. */
@ConfigMapping(prefix = "foundry.auth")
public interface AuthConfig {

    /** Comma list of {@code key=tenant} pairs accepted without asking job-api. */
    Optional<String> staticKeys();

    /** The bootstrap admin key ({@code FOUNDRY_ADMIN_KEY}); resolves to tenant {@code admin}. */
    Optional<String> adminKey();

    /** Base URL of job-api, the key authority ({@code GET /v1/auth/whoami}). */
    String jobApiUrl();

    @WithDefault("60s")
    Duration cacheTtl();

    @WithDefault("2s")
    Duration timeout();
}
