package io.peftfoundry.jobapi.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** job-api settings ({@code foundry.*} in application.properties, each fed by a FOUNDRY_* variable). */
@ConfigMapping(prefix = "foundry")
public interface JobApiConfig {

    Auth auth();

    ArtifactStore artifactStore();

    Outbox outbox();

    Health health();

    Sse sse();

    Scheduling scheduling();

    interface Scheduling {
        /**
         * Workers heard from within this long count at submit: a job none of them can hold (memory, model family) is
         * refused. Workers re-advertise every 30 s by default.
         */
        @WithDefault("5m")
        Duration workerSeenWithin();
    }

    interface Sse {
        /** Live event streams one tenant may hold open at once; one more is refused with 429. */
        @WithDefault("16")
        int maxStreamsPerTenant();

        /** An idle stream gets a keep-alive comment this often (proxies drop silent connections). */
        @WithDefault("15s")
        Duration keepAlive();
    }

    interface Health {
        /** How long the readiness check waits for the broker's answer. */
        Duration kafkaTimeout();

        /** How long a readiness answer is reused. */
        Duration kafkaCache();
    }

    interface Auth {
        /** The bootstrap admin key ({@code FOUNDRY_ADMIN_KEY}); its hash is upserted as an admin key of tenant admin. */
        Optional<String> adminKey();

        /** The trainer workers' service key ({@code FOUNDRY_WORKER_KEY}): upserted as service key of tenant admin. */
        Optional<String> workerKey();

        /** The eval-service's service key ({@code FOUNDRY_EVAL_SERVICE_KEY}): upserted likewise. */
        Optional<String> evalServiceKey();
    }

    interface ArtifactStore {
        /** How long a found model, file or adapter is remembered per key (artifacts are immutable). */
        @WithDefault("60s")
        Duration cacheTtl();
    }

    interface Outbox {
        /** Longest pause between relay passes when nothing wakes the relay up. */
        @WithDefault("50ms")
        Duration interval();

        /** Rows claimed and published per pass. */
        @WithDefault("500")
        int batchSize();

        /** How long the relay waits for the broker to acknowledge a batch before retrying it. */
        @WithDefault("30s")
        Duration ackTimeout();

        /** How long a published row is kept (for inspection) before the relay deletes it. */
        @WithDefault("1h")
        Duration retention();

        /** How often the relay deletes published rows older than {@link #retention()}. */
        @WithDefault("1m")
        Duration cleanupEvery();
    }
}
