package io.peftfoundry.artifacts.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Where blobs live: the S3 endpoint, credentials and bucket. */
@ConfigMapping(prefix = "foundry.s3")
public interface S3Config {

    String endpoint();

    String accessKey();

    String secretKey();

    String bucket();

    /** Timeout of the readiness probe against the bucket. */
    @WithDefault("2s")
    Duration healthTimeout();
}
