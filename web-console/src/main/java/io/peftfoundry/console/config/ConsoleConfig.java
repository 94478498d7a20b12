package io.peftfoundry.console.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Where the console finds the services it fronts, and how long it waits for them. */
@ConfigMapping(prefix = "foundry.console")
public interface ConsoleConfig {

    /** job-api base URL ({@code FOUNDRY_JOB_API_URL}); the browser reaches it at {@code /api/jobs/…}. */
    String jobApiUrl();

    /** artifact-store base URL ({@code FOUNDRY_ARTIFACT_STORE_URL}); reached at {@code /api/artifacts/…}. */
    String artifactStoreUrl();

    /** eval-service base URL ({@code FOUNDRY_EVAL_SERVICE_URL}); reached at {@code /api/evals/…}. */
    String evalServiceUrl();

    /** Time to open a connection to a service before answering 502. */
    @WithDefault("2s")
    Duration connectTimeout();

    /**
     * Longest silence on a proxied exchange before it is given up (502 if nothing was answered yet). Generous, because
     * artifact-store verifies a blob before its first byte; event streams ({@code text/event-stream}) have none.
     */
    @WithDefault("120s")
    Duration idleTimeout();
}
