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

    /**
     * Part size of multipart puts (S3's minimum is 5 MiB). The S3 server may hold a whole signed part in memory to
     * verify it (S3Proxy does), so parts x {@link #uploadParallelism()} is what the server buffers at once.
     */
    @WithDefault("33554432")
    long uploadPartBytes();

    /**
     * Parts of one blob sent at once; each is streamed from the local file (no part is copied into the heap). 1 by
     * default: on the 2-core machine this was measured on, with S3Proxy on the same cores, more parts in flight were
     * no faster (bench/artifact-store/results.md); raise it for an S3 server with its own cores and disks.
     */
    @WithDefault("1")
    int uploadParallelism();

    /** Timeout of the readiness probe against the bucket. */
    @WithDefault("2s")
    Duration healthTimeout();
}
