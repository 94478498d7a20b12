package io.peftfoundry.artifacts.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.time.Duration;

/** Behaviour of the store: limits, pruning, presigned URLs, built-in models. */
@ConfigMapping(prefix = "foundry.artifacts")
public interface ArtifactsConfig {

    /** Largest accepted upload (file, adapter, checkpoint or model); larger ones get 413. */
    @WithDefault("4294967296")
    long maxUploadBytes();

    /** How many offending lines a rejected dataset lists. */
    @WithDefault("20")
    int maxReportedErrors();

    /** Bytes of a download held back until the blob's digest is verified (and the size verified before sending anything). */
    @WithDefault("1048576")
    int verifyTailBytes();

    Checkpoints checkpoints();

    /** Lifetime of presigned download URLs. */
    @WithDefault("1h")
    Duration presignExpiry();

    /** Scratch space for verifying downloads and building zips. */
    String workDir();

    /** Register the built-in models (three encoders imported through peft-engine, the demo decoder) at first start. */
    @WithDefault("true")
    boolean importBuiltinModels();

    /** Which built-in models to register (peft-engine encoder names, or {@code demo-decoder}), in this order. */
    @WithDefault("demo-decoder,all-minilm-l6-v2,bge-small-en-v1.5,e5-small-v2")
    java.util.List<String> builtinModels();

    interface Checkpoints {
        /** Checkpoints kept per job after each upload; older ones are pruned. */
        @WithName("keep-last")
        @WithDefault("3")
        int keepLast();
    }
}
