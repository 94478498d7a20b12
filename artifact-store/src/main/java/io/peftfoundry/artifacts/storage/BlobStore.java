package io.peftfoundry.artifacts.storage;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioAsyncClient;
import io.minio.MinioClient;
import io.minio.RemoveObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.UploadObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.http.Method;
import io.minio.messages.Part;
import io.peftfoundry.artifacts.config.S3Config;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import com.google.common.collect.HashMultimap;
import com.google.common.collect.Multimap;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Content-addressed blobs in the S3 bucket at {@code blobs/sha256/<hex>}. Keys are derived only from
 * digests, never from user-supplied names.
 */
@ApplicationScoped
public class BlobStore {

    private static final Logger LOG = Logger.getLogger(BlobStore.class);

    private final S3Config config;
    private final MinioClient client;
    /** For the parallel multipart put: its part-level calls are public on the async client only. */
    private final MinioAsyncClient asyncClient;
    private final MinioClient probeClient;
    private volatile boolean bucketEnsured;

    public BlobStore(S3Config config) {
        this.config = config;
        this.client = MinioClient.builder()
                .endpoint(config.endpoint())
                .credentials(config.accessKey(), config.secretKey())
                .region("us-east-1")
                .build();
        this.asyncClient = MinioAsyncClient.builder()
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
            if (size <= config.uploadPartBytes()) {
                client.uploadObject(UploadObjectArgs.builder()
                        .bucket(config.bucket())
                        .object(keyFor(sha256Hex))
                        .filename(file.toString(), Math.max(size, 5L * 1024 * 1024))
                        .contentType(contentType)
                        .build());
            } else {
                putInParallelParts(keyFor(sha256Hex), file, size, contentType);
            }
            return true;
        } catch (Exception e) {
            throw io(e, "cannot store blob " + sha256Hex);
        }
    }

    /**
     * A multipart put with up to {@code upload-parallelism} parts in flight, each streamed by the MinIO client from its
     * own region of the file (it reads a part once to sign it, then again to send it: no part is held in the heap).
     * The object appears under its key only when every part is in (complete); a failure aborts the upload, so a
     * half-written blob is never visible under a digest.
     */
    private void putInParallelParts(String key, Path file, long size, String contentType) throws Exception {
        long started = System.nanoTime();
        Multimap<String, String> headers = HashMultimap.create();
        headers.put("Content-Type", contentType);
        String uploadId = asyncClient.createMultipartUploadAsync(config.bucket(), null, key, headers, null).get()
                .result().uploadId();
        long partBytes = config.uploadPartBytes();
        int parts = (int) ((size + partBytes - 1) / partBytes);
        Part[] done = new Part[parts];
        Semaphore slots = new Semaphore(Math.max(1, config.uploadParallelism()));
        List<CompletableFuture<?>> sending = new ArrayList<>();
        try {
            for (int i = 0; i < parts; i++) {
                slots.acquire();
                failFast(sending);
                int number = i + 1;
                long offset = i * partBytes;
                RandomAccessFile region = new RandomAccessFile(file.toFile(), "r");
                try {
                    region.seek(offset);
                    sending.add(asyncClient.uploadPartAsync(config.bucket(), null, key, region,
                                    Math.min(partBytes, size - offset), uploadId, number, null, null)
                            .whenComplete((response, failure) -> {
                                closeQuietly(region);
                                slots.release();
                                if (response != null) {
                                    done[number - 1] = new Part(number, response.etag());
                                }
                            }));
                } catch (Exception e) {
                    closeQuietly(region);
                    slots.release();
                    throw e;
                }
            }
            CompletableFuture.allOf(sending.toArray(CompletableFuture[]::new)).get();
            long partsDone = System.nanoTime();
            asyncClient.completeMultipartUploadAsync(config.bucket(), null, key, uploadId, done, null, null).get();
            // where a put's time goes: the parts (client reads and signs, server verifies and writes) against the
            // server's assembly of the object from its parts (S3Proxy's filesystem store copies them into one file)
            LOG.infof("put %s: %d bytes in %d parts of %d MiB, %d at once: parts %d ms, complete %d ms", key, size,
                    parts, partBytes >> 20, config.uploadParallelism(), (partsDone - started) / 1_000_000,
                    (System.nanoTime() - partsDone) / 1_000_000);
        } catch (Exception e) {
            for (CompletableFuture<?> f : sending) {
                f.cancel(true);
            }
            try {
                asyncClient.abortMultipartUploadAsync(config.bucket(), null, key, uploadId, null, null)
                        .get(30, TimeUnit.SECONDS);
            } catch (Exception abort) {
                LOG.warnf("multipart upload %s of %s not aborted: %s", uploadId, key, abort.getMessage());
            }
            throw e instanceof ExecutionException ee && ee.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Stops queueing parts once one has failed. */
    private static void failFast(List<CompletableFuture<?>> sending) throws Exception {
        for (CompletableFuture<?> f : sending) {
            if (f.isCompletedExceptionally()) {
                f.get();
            }
        }
    }

    private static void closeQuietly(RandomAccessFile f) {
        try {
            f.close();
        } catch (IOException e) {
            LOG.debugf("closing a part's file: %s", e.getMessage());
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
