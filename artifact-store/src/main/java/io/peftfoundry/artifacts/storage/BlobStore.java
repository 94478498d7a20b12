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

import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okio.BufferedSink;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
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
    /** For the streamed puts with an {@code UNSIGNED-PAYLOAD} signature (the MinIO client signs it over HTTPS only). */
    private final OkHttpClient http;
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
        this.http = new OkHttpClient.Builder()
                .connectTimeout(Duration.ofMinutes(1))
                .writeTimeout(Duration.ofMinutes(5))
                .readTimeout(Duration.ofMinutes(5))
                // a pooled connection the S3 server has closed (it restarted, or timed the connection out) fails the
                // next put's first write: OkHttp then repeats the request on a new connection — the PUT of a file
                // region is repeatable and idempotent (the key is the content's digest); a streamed, one-shot body
                // (PendingPut) is never repeated, its caller falls back to the put from the work file
                .retryOnConnectionFailure(true)
                .build();
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
            if (config.unsignedPayload()) {
                if (size <= config.singlePutMaxBytes()) {
                    long started = System.nanoTime();
                    putUnsigned(keyFor(sha256Hex), Map.of(), file, 0, size, contentType);
                    LOG.infof("put %s: %d bytes in one unsigned-payload PUT, %d ms", keyFor(sha256Hex), size,
                            (System.nanoTime() - started) / 1_000_000);
                } else {
                    putInParallelParts(keyFor(sha256Hex), file, size, contentType);
                }
            } else if (size <= config.uploadPartBytes()) {
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
                long length = Math.min(partBytes, size - offset);
                if (config.unsignedPayload()) {
                    sending.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return putUnsigned(key, Map.of("partNumber", Integer.toString(number), "uploadId", uploadId),
                                    file, offset, length, contentType);
                        } catch (IOException e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    }, PART_SENDERS).whenComplete((etag, failure) -> {
                        slots.release();
                        if (etag != null) {
                            done[number - 1] = new Part(number, etag);
                        }
                    }));
                    continue;
                }
                RandomAccessFile region = new RandomAccessFile(file.toFile(), "r");
                try {
                    region.seek(offset);
                    sending.add(asyncClient.uploadPartAsync(config.bucket(), null, key, region,
                                    length, uploadId, number, null, null)
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
            LOG.infof("put %s: %d bytes in %d parts of %d MiB, %d at once, %s: parts %d ms, complete %d ms", key, size,
                    parts, partBytes >> 20, config.uploadParallelism(),
                    config.unsignedPayload() ? "unsigned payload" : "signed payload", (partsDone - started) / 1_000_000,
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

    private static final java.util.concurrent.ExecutorService PART_SENDERS =
            java.util.concurrent.Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "blob-part-sender");
                t.setDaemon(true);
                return t;
            });

    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", java.util.Locale.US);

    /**
     * One PUT (a whole object, or a part when {@code query} names {@code partNumber} and {@code uploadId}) whose body is
     * {@code length} bytes of {@code file} from {@code offset}, streamed from the file as it is sent: read once, never
     * held in the heap. Signed with SigV4 over the headers and {@code x-amz-content-sha256: UNSIGNED-PAYLOAD} (the
     * MinIO client's own signer), so neither side hashes the payload for the signature: the MinIO client would read
     * every part twice over plain HTTP (once to hash it for the signature, once to send it) and S3Proxy would buffer
     * each signed part to verify that hash. The bytes' integrity does not rest on it: a blob is stored under the
     * SHA-256 of its content and every read checks that digest. A body shorter than {@code length} fails the request
     * (the server stores nothing for a PUT whose body ended early).
     *
     * @return the ETag the server gave
     */
    String putUnsigned(String key, Map<String, String> query, Path file, long offset, long length, String contentType)
            throws IOException {
        Request signed = signedPut(key, query, new FileRegionBody(file, offset, length, MediaType.parse(contentType)));
        try (okhttp3.Response response = http.newCall(signed).execute()) {
            return checked(response, key);
        }
    }

    /** A PUT of {@code body} to the key, signed (SigV4, MinIO's signer) over its headers with an unsigned payload. */
    private Request signedPut(String key, Map<String, String> query, RequestBody body) throws IOException {
        HttpUrl.Builder url = HttpUrl.get(config.endpoint()).newBuilder()
                .addPathSegment(config.bucket())
                .addPathSegments(key);
        query.forEach(url::addQueryParameter);
        HttpUrl target = url.build();
        boolean defaultPort = target.port() == HttpUrl.defaultPort(target.scheme());
        Request unsigned = new Request.Builder()
                .url(target)
                .header("Host", defaultPort ? target.host() : target.host() + ":" + target.port())
                .header("x-amz-date", ZonedDateTime.now(ZoneOffset.UTC).format(AMZ_DATE))
                .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                .put(body)
                .build();
        try {
            return io.minio.Signer.signV4S3(unsigned, "us-east-1", config.accessKey(), config.secretKey(),
                    "UNSIGNED-PAYLOAD");
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot sign the put of " + key + ": " + e.getMessage(), e);
        }
    }

    /** The response's ETag, or an IOException naming the status and the start of the server's error body. */
    private static String checked(okhttp3.Response response, String key) throws IOException {
        if (!response.isSuccessful()) {
            String body = response.body() == null ? "" : response.body().string();
            throw new IOException("S3 refused the put of " + key + ": HTTP " + response.code() + " "
                    + body.substring(0, Math.min(body.length(), 500)));
        }
        String etag = response.header("ETag");
        return etag == null ? "" : etag.replace("\"", "");
    }

    /** A request body that streams a region of a file; sent again from the file if OkHttp retries. */
    private static final class FileRegionBody extends RequestBody {
        private final Path file;
        private final long offset;
        private final long length;
        private final MediaType type;

        FileRegionBody(Path file, long offset, long length, MediaType type) {
            this.file = file;
            this.offset = offset;
            this.length = length;
            this.type = type;
        }

        @Override
        public MediaType contentType() {
            return type;
        }

        @Override
        public long contentLength() {
            return length;
        }

        @Override
        public void writeTo(BufferedSink sink) throws IOException {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                long position = offset;
                long left = length;
                while (left > 0) {
                    buf.clear().limit((int) Math.min(buf.capacity(), left));
                    int n = channel.read(buf, position);
                    if (n < 0) {
                        throw new EOFException(file + " ended " + left + " bytes before the " + length + " to send");
                    }
                    sink.write(buf.array(), 0, n);
                    position += n;
                    left -= n;
                }
            }
        }
    }

    /**
     * Starts the put of a blob whose digest the uploader declared before sending it, so the bytes can go to S3 while
     * they are received instead of after: one unsigned-payload PUT of {@code size} bytes to the digest's key, fed through
     * {@link PendingPut#write}. The PUT's last bytes are held back until {@link PendingPut#finish} (the caller has
     * checked the digest of what it received, and whatever else it checks): until then the body is incomplete and the
     * server stores nothing, so a blob still appears under its digest only when complete and verified;
     * {@link PendingPut#abort} ends the request without its last bytes. Empty when the blob is already stored (nothing
     * to send), when unsigned payloads are off, or when the size is over the single-put limit.
     */
    public java.util.Optional<PendingPut> beginPut(String sha256Hex, long size, String contentType) throws IOException {
        if (!config.unsignedPayload() || size <= 0 || size > config.singlePutMaxBytes()) {
            return java.util.Optional.empty();
        }
        ensureBucket();
        OptionalLong existing = size(sha256Hex);
        if (existing.isPresent() && existing.getAsLong() == size) {
            return java.util.Optional.empty();
        }
        PendingPut put = new PendingPut(keyFor(sha256Hex), size);
        Request request = signedPut(keyFor(sha256Hex), Map.of(), put.body(MediaType.parse(contentType)));
        put.sending = CompletableFuture.supplyAsync(() -> {
            try (okhttp3.Response response = http.newCall(request).execute()) {
                return checked(response, put.key);
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, PART_SENDERS);
        return java.util.Optional.of(put);
    }

    /**
     * A PUT in progress, fed by the receiving thread through a few pooled 1 MiB buffers (at most {@link #BUFFERS} MiB of
     * heap per upload, whatever its size); the sender writes each buffer to the socket when the next one arrives, so
     * the last one waits for {@link #finish}.
     */
    public static final class PendingPut {
        static final int BUFFERS = 4;
        private static final int BUFFER_BYTES = 1 << 20;
        private static final Chunk END = new Chunk(null, 0);
        private static final Chunk ABORT = new Chunk(null, 0);

        private record Chunk(byte[] bytes, int length) {
        }

        private final String key;
        private final long size;
        private final java.util.concurrent.BlockingQueue<Chunk> full = new java.util.concurrent.ArrayBlockingQueue<>(BUFFERS + 2);
        private final java.util.concurrent.BlockingQueue<byte[]> free = new java.util.concurrent.ArrayBlockingQueue<>(BUFFERS);
        private volatile CompletableFuture<String> sending;
        private byte[] current;
        private int filled;
        private long written;
        private boolean ended;

        private PendingPut(String key, long size) {
            this.key = key;
            this.size = size;
            for (int i = 0; i < BUFFERS; i++) {
                free.add(new byte[BUFFER_BYTES]);
            }
        }

        /** Queues bytes for the PUT; blocks while the buffers are all queued (the server is slower than the upload). */
        public void write(byte[] b, int off, int len) throws IOException {
            if (ended) {
                throw new IllegalStateException("put of " + key + " already ended");
            }
            written += len;
            if (written > size) {
                throw new IOException("more than the " + size + " bytes announced for " + key);
            }
            while (len > 0) {
                if (current == null) {
                    current = take(free);
                    filled = 0;
                }
                int n = Math.min(len, current.length - filled);
                System.arraycopy(b, off, current, filled, n);
                filled += n;
                off += n;
                len -= n;
                if (filled == current.length) {
                    offer(new Chunk(current, filled));
                    current = null;
                }
            }
        }

        /** Sends the held-back last bytes and waits for the server: the blob is stored when this returns. */
        public void finish() throws IOException {
            if (written != size) {
                abort();
                throw new IOException(key + ": " + written + " bytes written of the " + size + " announced");
            }
            if (current != null) {
                offer(new Chunk(current, filled));
                current = null;
            }
            ended = true;
            offer(END);
            try {
                sending.get(5, TimeUnit.MINUTES);
            } catch (Exception e) {
                throw io(e instanceof ExecutionException ee && ee.getCause() != null
                        ? (ee.getCause() instanceof Exception c ? c : e) : e, "cannot store blob at " + key);
            }
        }

        /** Ends the PUT without its last bytes: the server keeps nothing. Safe to call more than once. */
        public void abort() {
            if (ended) {
                return;
            }
            ended = true;
            full.clear(); // the sender is then free to take ABORT at once, whatever it had queued
            full.offer(ABORT);
            try {
                sending.get(30, TimeUnit.SECONDS);
            } catch (Exception expected) {
                LOG.debugf("aborted put of %s: %s", key, expected.getMessage());
            }
        }

        private byte[] take(java.util.concurrent.BlockingQueue<byte[]> queue) throws IOException {
            try {
                while (true) {
                    byte[] b = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (b != null) {
                        return b;
                    }
                    failIfSendingEnded();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while putting " + key);
            }
        }

        private void offer(Chunk chunk) throws IOException {
            try {
                while (!full.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                    failIfSendingEnded();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while putting " + key);
            }
        }

        /** The sender ended before it had all the bytes (the server refused or went away): no point in waiting. */
        private void failIfSendingEnded() throws IOException {
            CompletableFuture<String> s = sending;
            if (s != null && s.isDone()) {
                try {
                    s.get();
                } catch (Exception e) {
                    throw io(e instanceof ExecutionException ee && ee.getCause() instanceof Exception c ? c : e,
                            "the put of " + key + " failed");
                }
                throw new IOException("the put of " + key + " ended before its last bytes");
            }
        }

        RequestBody body(MediaType type) {
            return new RequestBody() {
                @Override
                public MediaType contentType() {
                    return type;
                }

                @Override
                public long contentLength() {
                    return size;
                }

                @Override
                public boolean isOneShot() {
                    return true;
                }

                @Override
                public void writeTo(BufferedSink sink) throws IOException {
                    Chunk held = null;
                    try {
                        while (true) {
                            Chunk next = full.take();
                            if (next == ABORT) {
                                throw new IOException("put of " + key + " aborted before its last bytes");
                            }
                            if (held != null) {
                                sink.write(held.bytes(), 0, held.length());
                                free.offer(held.bytes());
                                held = null;
                            }
                            if (next == END) {
                                return;
                            }
                            held = next;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("put of " + key + " interrupted");
                    }
                }
            };
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
