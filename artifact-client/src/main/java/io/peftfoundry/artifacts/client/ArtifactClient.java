package io.peftfoundry.artifacts.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Client of the artifact-store REST API for the trainer worker and eval-service.
 * <ul>
 *   <li>Uploads stream from disk (multipart bodies are concatenated publishers, never buffered).</li>
 *   <li>Downloads land in a cache keyed by sha-256 ({@code cacheDir/sha256/<hex>}); a cached file whose
 *       digest matches is reused, and every download is digest-checked before it enters the cache.</li>
 *   <li>Connect errors, timeouts and 5xx answers are retried a bounded number of times with exponential
 *       backoff; 4xx answers are not retried.</li>
 * </ul>
 * Metadata comes back as Jackson {@link JsonNode}s shaped as in the artifact-store API
 * ({@code id, digest: "sha256:<hex>", bytes, …}).
 */
public class ArtifactClient {

    private final URI baseUrl;
    private final String apiKey;
    private final HttpClient http;
    /** Items asked for per page when following a whole list (the lists' maximum). */
    private static final int LIST_PAGE = 100;

    private final ObjectMapper mapper = new ObjectMapper();
    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration requestTimeout;

    public ArtifactClient(String baseUrl, String apiKey) {
        this(baseUrl, apiKey, 4, Duration.ofMillis(250), Duration.ofMinutes(30));
    }

    /**
     * @param maxAttempts    total tries per call (≥ 1)
     * @param initialBackoff wait before the 2nd try; doubled for each further try
     * @param requestTimeout upper bound of one request, transfer included
     */
    public ArtifactClient(String baseUrl, String apiKey, int maxAttempts, Duration initialBackoff, Duration requestTimeout) {
        this.baseUrl = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        this.apiKey = apiKey;
        this.maxAttempts = Math.max(1, maxAttempts);
        this.initialBackoff = initialBackoff;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    // ---- datasets ------------------------------------------------------------------------------

    /** {@code POST /v1/files}; {@code task} may be null (the store infers it). */
    public JsonNode uploadFile(Path file, String purpose, String task) throws IOException {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("purpose", purpose);
        if (task != null) {
            fields.put("task", task);
        }
        return postMultipart("/v1/files", fields, file, file.getFileName().toString(), "application/jsonl");
    }

    public JsonNode getFile(String id) throws IOException {
        return getJson("/v1/files/" + enc(id));
    }

    /** Downloads a dataset into the digest-keyed cache and returns the cached path. */
    public Path downloadFile(String id, Path cacheDir) throws IOException {
        JsonNode meta = getFile(id);
        return downloadToCache("/v1/files/" + enc(id) + "/content", meta, cacheDir);
    }

    // ---- adapters ------------------------------------------------------------------------------

    /**
     * {@code POST /v1/adapters}: zips the PEFT-format directory and uploads it with its lineage
     * ({@code job_id, base_model, method, dataset_digest, parent_adapter}; null values are left out).
     */
    public JsonNode uploadAdapter(Path adapterDir, Map<String, String> lineage) throws IOException {
        return uploadAdapter(adapterDir, lineage, null);
    }

    /**
     * As {@link #uploadAdapter(Path, Map)}, stored for {@code tenant} (honoured for admin keys only: a trainer worker
     * stores the adapter on behalf of the job's tenant); a null tenant means the key's own.
     */
    public JsonNode uploadAdapter(Path adapterDir, Map<String, String> lineage, String tenant) throws IOException {
        Path zip = zipDirectory(adapterDir);
        try {
            ObjectNode lineageJson = mapper.createObjectNode();
            lineage.forEach((k, v) -> {
                if (v != null) {
                    lineageJson.put(k, v);
                }
            });
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("lineage", mapper.writeValueAsString(lineageJson));
            if (tenant != null) {
                fields.put("tenant", tenant);
            }
            return postMultipart("/v1/adapters", fields, zip, "adapter.zip", "application/zip");
        } finally {
            Files.deleteIfExists(zip);
        }
    }

    /** {@code GET /v1/adapters}: all the caller's adapters (every page), as {@code {"object": "list", "data": [...]}}. */
    public JsonNode listAdapters() throws IOException {
        return listAll("/v1/adapters");
    }

    public JsonNode getAdapter(String id) throws IOException {
        return getJson("/v1/adapters/" + enc(id));
    }

    /** Downloads the adapter zip (cached by digest) and unpacks it into {@code targetDir}. */
    public Path downloadAdapter(String id, Path cacheDir, Path targetDir) throws IOException {
        JsonNode meta = getAdapter(id);
        Path zip = downloadToCache("/v1/adapters/" + enc(id) + "/content", meta, cacheDir);
        unzip(zip, targetDir);
        return targetDir;
    }

    // ---- checkpoints ---------------------------------------------------------------------------

    /** {@code POST /v1/checkpoints}: zips {@code checkpointDir} and stores it for the job's attempt and step. */
    public JsonNode uploadCheckpoint(String jobId, int attempt, long step, Path checkpointDir) throws IOException {
        return uploadCheckpoint(jobId, attempt, step, checkpointDir, null);
    }

    /** As {@link #uploadCheckpoint(String, int, long, Path)}, stored for {@code tenant} (admin keys only; null: own). */
    public JsonNode uploadCheckpoint(String jobId, int attempt, long step, Path checkpointDir, String tenant)
            throws IOException {
        Path zip = Files.isDirectory(checkpointDir) ? zipDirectory(checkpointDir) : null;
        try {
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("job_id", jobId);
            fields.put("attempt", Integer.toString(attempt));
            fields.put("step", Long.toString(step));
            if (tenant != null) {
                fields.put("tenant", tenant);
            }
            return postMultipart("/v1/checkpoints", fields, zip != null ? zip : checkpointDir, "checkpoint.zip", "application/zip");
        } finally {
            if (zip != null) {
                Files.deleteIfExists(zip);
            }
        }
    }

    /** The newest checkpoint of a job (highest attempt, then step), or empty when there is none. */
    public Optional<JsonNode> latestCheckpoint(String jobId) throws IOException {
        return latestCheckpoint(jobId, null);
    }

    /** As {@link #latestCheckpoint(String)}, among the checkpoints of {@code tenant} only (a platform key's view). */
    public Optional<JsonNode> latestCheckpoint(String jobId, String tenant) throws IOException {
        try {
            return Optional.of(getJson("/v1/checkpoints/latest?job_id=" + enc(jobId)
                    + (tenant == null || tenant.isBlank() ? "" : "&tenant=" + enc(tenant))));
        } catch (ArtifactStoreException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** {@code GET /v1/checkpoints/{id}}. */
    public JsonNode getCheckpoint(String id) throws IOException {
        return getJson("/v1/checkpoints/" + enc(id));
    }

    /** Downloads a checkpoint zip (cached by digest) and unpacks it into {@code targetDir}. */
    public Path downloadCheckpoint(JsonNode checkpoint, Path cacheDir, Path targetDir) throws IOException {
        Path zip = downloadToCache("/v1/checkpoints/" + enc(checkpoint.path("id").asText()) + "/content", checkpoint, cacheDir);
        unzip(zip, targetDir);
        return targetDir;
    }

    // ---- models --------------------------------------------------------------------------------

    /** {@code GET /v1/models/{idOrName}}. */
    public JsonNode getModel(String idOrName) throws IOException {
        return getJson("/v1/models/" + enc(idOrName));
    }

    /**
     * {@code GET /v1/models/{idOrName}?tenant=} with a platform key: the model as {@code tenant} sees it, so a name
     * resolves to that tenant's model (a job's model is named in the job's tenant, not the worker's).
     */
    public JsonNode getModel(String idOrName, String tenant) throws IOException {
        return tenant == null || tenant.isBlank() ? getModel(idOrName)
                : getJson("/v1/models/" + enc(idOrName) + "?tenant=" + enc(tenant));
    }

    /** {@code GET /v1/models}: all the models the caller sees (every page), as {@code {"object": "list", "data": [...]}}. */
    public JsonNode listModels() throws IOException {
        return listAll("/v1/models");
    }

    /** Follows a cursor-paged list ({@code limit}, {@code after=last_id} while {@code has_more}) to its end. */
    private JsonNode listAll(String path) throws IOException {
        ObjectNode all = mapper.createObjectNode();
        all.put("object", "list");
        var data = all.putArray("data");
        String after = null;
        while (true) {
            JsonNode page = getJson(path + "?limit=" + LIST_PAGE + (after == null ? "" : "&after=" + enc(after)));
            page.path("data").forEach(data::add);
            String last = page.path("last_id").asText(null);
            if (!page.path("has_more").asBoolean(false) || last == null || last.equals(after)) {
                return all;
            }
            after = last;
        }
    }

    /** Downloads a backbone (HF layout zip, cached by digest) and unpacks it into {@code targetDir}. */
    public Path downloadModel(String idOrName, Path cacheDir, Path targetDir) throws IOException {
        return downloadModel(idOrName, null, cacheDir, targetDir);
    }

    /** {@link #downloadModel(String, Path, Path)} with the name resolved in {@code tenant} ({@link #getModel(String, String)}). */
    public Path downloadModel(String idOrName, String tenant, Path cacheDir, Path targetDir) throws IOException {
        JsonNode meta = getModel(idOrName, tenant);
        Path zip = downloadToCache("/v1/models/" + enc(meta.path("id").asText()) + "/content", meta, cacheDir);
        unzip(zip, targetDir);
        return targetDir;
    }

    // ---- plumbing ------------------------------------------------------------------------------

    private JsonNode getJson(String path) throws IOException {
        HttpRequest req = request(path).header("Accept", "application/json").GET().build();
        HttpResponse<String> resp = send(req, HttpResponse.BodyHandlers.ofString());
        return mapper.readTree(resp.body());
    }

    private JsonNode postMultipart(String path, Map<String, String> fields, Path file, String fileName, String contentType)
            throws IOException {
        String boundary = "----foundry-" + UUID.randomUUID();
        StringBuilder head = new StringBuilder();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            head.append("--").append(boundary).append("\r\n")
                    .append("Content-Disposition: form-data; name=\"").append(f.getKey()).append("\"\r\n")
                    .append("Content-Type: text/plain; charset=UTF-8\r\n\r\n")
                    .append(f.getValue()).append("\r\n");
        }
        head.append("--").append(boundary).append("\r\n")
                .append("Content-Disposition: form-data; name=\"file\"; filename=\"")
                .append(fileName.replace("\"", "_")).append("\"\r\n")
                .append("Content-Type: ").append(contentType).append("\r\n\r\n");
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest req = request(path)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.concat(
                        HttpRequest.BodyPublishers.ofString(head.toString(), StandardCharsets.UTF_8),
                        HttpRequest.BodyPublishers.ofFile(file),
                        HttpRequest.BodyPublishers.ofString(tail, StandardCharsets.UTF_8)))
                .build();
        return mapper.readTree(send(req, HttpResponse.BodyHandlers.ofString()).body());
    }

    private Path downloadToCache(String contentPath, JsonNode meta, Path cacheDir) throws IOException {
        String digest = meta.path("digest").asText();
        if (!digest.startsWith("sha256:")) {
            throw new IOException("artifact " + meta.path("id").asText() + " has no sha256 digest");
        }
        String hex = digest.substring("sha256:".length());
        long size = meta.path("bytes").asLong(-1);
        Path dir = cacheDir.resolve("sha256");
        Files.createDirectories(dir);
        Path target = dir.resolve(hex);
        if (Files.exists(target) && Files.size(target) == size && sha256(target).equals(hex)) {
            return target;
        }
        Path tmp = Files.createTempFile(dir, hex + ".", ".part");
        try {
            HttpRequest req = request(contentPath).header("Accept", "application/octet-stream, application/zip, */*").GET().build();
            HttpResponse<Path> resp = send(req, HttpResponse.BodyHandlers.ofFile(tmp));
            Path got = resp.body();
            String actual = sha256(got);
            if (!actual.equals(hex) || (size >= 0 && Files.size(got) != size)) {
                throw new IOException("downloaded content of " + meta.path("id").asText()
                        + " does not match its digest (expected " + hex + ", got " + actual + ")");
            }
            Files.move(got, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(requestTimeout)
                .header("Authorization", "Bearer " + apiKey);
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (attempt > 1) {
                sleep(initialBackoff.multipliedBy(1L << Math.min(attempt - 2, 10)));
            }
            HttpResponse<T> resp;
            try {
                resp = http.send(req, handler);
            } catch (ConnectException | HttpTimeoutException e) {
                last = e;
                continue;
            } catch (IOException e) {
                // connection reset and similar transport failures: retry
                last = e;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            int status = resp.statusCode();
            if (status >= 200 && status < 300) {
                return resp;
            }
            ArtifactStoreException error = new ArtifactStoreException(status, bodyText(resp),
                    req.method() + " " + req.uri().getPath() + " answered " + status + ": " + bodyText(resp));
            if (status < 500) {
                throw error;
            }
            last = error;
        }
        throw last;
    }

    private static String bodyText(HttpResponse<?> resp) {
        Object body = resp.body();
        if (body instanceof String s) {
            return s;
        }
        if (body instanceof Path p) {
            try {
                return Files.size(p) < 64 * 1024 ? Files.readString(p) : "";
            } catch (IOException e) {
                return "";
            }
        }
        return "";
    }

    private static void sleep(Duration d) throws IOException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Zips a directory's regular files with paths relative to it (forward slashes). */
    public static Path zipDirectory(Path dir) throws IOException {
        Path zip = Files.createTempFile("foundry-", ".zip");
        try (OutputStream fileOut = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(fileOut);
             var files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new ZipEntry(dir.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
        return zip;
    }

    /** At most this many entries are unpacked from one zip (a model, adapter or checkpoint directory has a few). */
    public static final int MAX_UNZIP_ENTRIES = 10_000;
    /** At most this many bytes are written when unpacking one zip, whatever its entries declare (zip bombs). */
    public static final long MAX_UNZIP_BYTES = 64L << 30;

    /** Unpacks a zip into targetDir, refusing entries that would escape it (zip-slip) and bombs (see the limits). */
    public static void unzip(Path zip, Path targetDir) throws IOException {
        unzip(zip, targetDir, MAX_UNZIP_ENTRIES, MAX_UNZIP_BYTES);
    }

    /**
     * Unpacks a zip into targetDir, writing at most {@code maxEntries} entries and {@code maxBytes} bytes in all —
     * counted as they are inflated, so a zip lying about its sizes is cut off too.
     */
    public static void unzip(Path zip, Path targetDir, int maxEntries, long maxBytes) throws IOException {
        Files.createDirectories(targetDir);
        Path root = targetDir.toAbsolutePath().normalize();
        byte[] buf = new byte[1 << 16];
        long written = 0;
        int entries = 0;
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (++entries > maxEntries) {
                    throw new IOException("zip " + zip.getFileName() + " has more than " + maxEntries
                            + " entries; refused (zip bomb?)");
                }
                Path out = root.resolve(e.getName()).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException("zip entry escapes the target directory: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                    continue;
                }
                Files.createDirectories(out.getParent());
                try (OutputStream o = Files.newOutputStream(out)) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        written += n;
                        if (written > maxBytes) {
                            throw new IOException("zip " + zip.getFileName() + " unpacks to more than " + maxBytes
                                    + " bytes (at entry " + e.getName() + "); refused (zip bomb?)");
                        }
                        o.write(buf, 0, n);
                    }
                }
            }
        }
    }
}
