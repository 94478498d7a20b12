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

    /**
     * Blob puts are signed with {@code x-amz-content-sha256: UNSIGNED-PAYLOAD} and streamed from the local file once
     * (true), instead of the MinIO client's signed payload, which over plain HTTP reads every part twice to hash it
     * and makes S3Proxy buffer and re-hash every part (false). Integrity rests on the content digest, checked on every
     * read. Over HTTPS the MinIO client signs unsigned payloads anyway.
     */
    @WithDefault("true")
    boolean unsignedPayload();

    /**
     * With {@link #unsignedPayload()}, a blob up to this size goes in one streamed PUT rather than a multipart upload
     * (whose "complete" S3Proxy's filesystem store pays for with a second copy of every byte). S3 allows 5 GiB.
     */
    @WithDefault("5368709120")
    long singlePutMaxBytes();

    /** Timeout of the readiness probe against the bucket. */
    @WithDefault("2s")
    Duration healthTimeout();
}
