package io.peftfoundry.artifacts.storage;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.RemoveObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.UploadObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.http.Method;
import io.peftfoundry.artifacts.config.S3Config;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Content-addressed blobs in the S3 bucket at {@code blobs/sha256/<hex>}. Keys are derived only from
 * digests, never from user-supplied names.
 */
@ApplicationScoped
public class BlobStore {

    private static final Logger LOG = Logger.getLogger(BlobStore.class);

    static final long PART_BYTES = 32L * 1024 * 1024;

    private final S3Config config;
    private final MinioClient client;
    private final MinioClient probeClient;
    private volatile boolean bucketEnsured;

    public BlobStore(S3Config config) {
        this.config = config;
        this.client = MinioClient.builder()
                .endpoint(config.endpoint())
                .credentials(config.accessKey(), config.secretKey())
                .region("us-east-1")
                .build();
        long probeMillis = config.healthTimeout().toMillis();
        this.probeClient = MinioClient.builder()
                .endpoint(config.endpoint())
                .credentials(config.accessKey(), config.secretKey())
                .region("us-east-1")
                .build();
        this.probeClient.setTimeout(probeMillis, probeMillis, probeMillis);
    }

    public static String keyFor(String sha256Hex) {
        if (!sha256Hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha-256 hex digest");
        }
        return "blobs/sha256/" + sha256Hex;
    }

    public String bucket() {
        return config.bucket();
    }

    /** The raw MinIO client, for callers (tests, benchmarks) that inspect the bucket directly. */
    public MinioClient client() {
        return client;
    }

    /** Short-timeout check used by readiness: does the bucket answer? */
    public boolean bucketAnswers() {
        try {
            return probeClient.bucketExists(BucketExistsArgs.builder().bucket(config.bucket()).build());
        } catch (Exception e) {
            LOG.debugf("bucket probe failed: %s", e.getMessage());
            return false;
        }
    }

    /** Creates the bucket if it is missing (idempotent). */
    public void ensureBucket() throws IOException {
        if (bucketEnsured) {
            return;
        }
        try {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(config.bucket()).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(config.bucket()).build());
                LOG.infof("created bucket %s", config.bucket());
            }
            bucketEnsured = true;
        } catch (Exception e) {
            throw io(e, "cannot reach or create bucket " + config.bucket());
        }
    }

    /** Size of the stored blob, or empty when there is none. */
    public OptionalLong size(String sha256Hex) throws IOException {
        try {
            return OptionalLong.of(client.statObject(StatObjectArgs.builder()
                    .bucket(config.bucket()).object(keyFor(sha256Hex)).build()).size());
        } catch (ErrorResponseException e) {
            String code = e.errorResponse().code();
            if ("NoSuchKey".equals(code) || "NoSuchObject".equals(code) || "NotFound".equals(code)) {
                return OptionalLong.empty();
            }
            throw io(e, "cannot stat blob " + sha256Hex);
        } catch (Exception e) {
            throw io(e, "cannot stat blob " + sha256Hex);
        }
    }

    /**
     * Stores a local file as the blob for its digest unless an intact-sized blob is already there.
     *
     * @return true when the blob was uploaded, false when it was already present (dedupe)
     */
    public boolean putIfAbsent(String sha256Hex, Path file, long size, String contentType) throws IOException {
        ensureBucket();
        OptionalLong existing = size(sha256Hex);
        if (existing.isPresent() && existing.getAsLong() == size) {
            return false;
        }
        try {
            client.uploadObject(UploadObjectArgs.builder()
                    .bucket(config.bucket())
                    .object(keyFor(sha256Hex))
                    // from a file the MinIO client streams each part from disk (no heap buffer); parts stay
                    // small because S3 servers (S3Proxy) buffer a signed non-chunked request body to verify it
                    .filename(file.toString(), PART_BYTES)
                    .contentType(contentType)
                    .build());
            return true;
        } catch (Exception e) {
            throw io(e, "cannot store blob " + sha256Hex);
        }
    }

    public InputStream open(String sha256Hex) throws IOException {
        try {
            return client.getObject(GetObjectArgs.builder().bucket(config.bucket()).object(keyFor(sha256Hex)).build());
        } catch (Exception e) {
            throw io(e, "cannot read blob " + sha256Hex);
        }
    }

    public void delete(String sha256Hex) throws IOException {
        try {
            client.removeObject(RemoveObjectArgs.builder().bucket(config.bucket()).object(keyFor(sha256Hex)).build());
        } catch (Exception e) {
            throw io(e, "cannot delete blob " + sha256Hex);
        }
    }

    /** A time-limited GET URL for the blob, signed with the store's credentials. */
    public String presignedGet(String sha256Hex, Duration expiry, String downloadName) throws IOException {
        try {
            var builder = GetPresignedObjectUrlArgs.builder()
                    .method(Method.GET)
                    .bucket(config.bucket())
                    .object(keyFor(sha256Hex))
                    .expiry((int) Math.min(expiry.toSeconds(), TimeUnit.DAYS.toSeconds(7)));
            return client.getPresignedObjectUrl(builder.build());
        } catch (Exception e) {
            throw io(e, "cannot presign blob " + sha256Hex);
        }
    }

    private static IOException io(Exception e, String what) {
        if (e instanceof IOException io) {
            return io;
        }
        return new IOException(what + ": " + e.getMessage(), e);
    }
}
