package io.peftfoundry.eval.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Settings of the eval-service ({@code foundry.eval.*}, each from a {@code FOUNDRY_*} variable). */
@ConfigMapping(prefix = "foundry.eval")
public interface EvalConfig {

    /** artifact-store base URL: adapters, backbones and datasets. */
    String artifactStoreUrl();

    /** The service credential (job-api admin key) used for downloads and baseline submissions. */
    Optional<String> adminKey();

    /** Digest-keyed download cache and scratch space. */
    String cacheDir();

    /**
     * Memory budget of everything kept loaded — backbones (encoders and decoders) and adapters, for predictions and
     * the OpenAI-compatible endpoints; the least recently used unleased entries are closed beyond it.
     */
    @WithDefault("2147483648")
    long modelCacheBytes();

    /** Completion tokens of a chat completion that names no max_tokens (the context permitting). */
    @WithDefault("256")
    int maxCompletionTokens();

    /** Tokens per input for predictions (longer inputs are truncated). */
    @WithDefault("128")
    int maxSeqLength();

    /** How long a succeeded event waits for its job's spec to arrive on foundry.jobs.requested. */
    @WithDefault("30s")
    Duration specWait();

    /**
     * How long an evaluation stays claimed without a renewal: the owner renews it while it works, so a row still
     * {@code running} (or released {@code pending} after a transient failure) this long after its last renewal lost its
     * owner and is evaluated again by any instance.
     */
    @WithDefault("5m")
    Duration evaluationLease();

    /**
     * The device evaluations run on: {@code auto} (GPU 0 when DJL sees one, else the CPU), {@code cpu}, {@code gpu} or
     * {@code gpu:N} — as the trainer worker's {@code foundry.worker.device} ({@code Devices.select}).
     */
    @WithDefault("auto")
    String device();

    /** Whether a non-full job without a baseline gets one submitted automatically. */
    @WithDefault("true")
    boolean submitBaselines();
}
