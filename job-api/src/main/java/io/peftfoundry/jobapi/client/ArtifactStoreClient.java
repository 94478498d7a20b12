package io.peftfoundry.jobapi.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.jobapi.auth.ApiKeys;
import io.peftfoundry.jobapi.config.JobApiConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Looks up models, files and adapters in artifact-store with the caller's own key (so a tenant can only name its own
 * artifacts). Each request has a timeout; connection errors, timeouts and 5xx are retried twice, then surface as
 * {@link IOException}. Found artifacts are cached per key for {@code foundry.artifact-store.cache-ttl}: they are
 * immutable, and job submission should not cost three HTTP calls each time.
 */
@ApplicationScoped
public class ArtifactStoreClient {

    private static final Logger LOG = Logger.getLogger(ArtifactStoreClient.class);

    private final JobApiConfig.ArtifactStore config;
    private final ObjectMapper mapper;
    private final HttpClient http;
    private final long cacheTtlNanos;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(JsonNode body, long expiresAt) {
    }

    public ArtifactStoreClient(JobApiConfig config, ObjectMapper mapper) {
        this.config = config.artifactStore();
        this.mapper = mapper;
        this.http = HttpClient.newBuilder().connectTimeout(this.config.timeout()).build();
        this.cacheTtlNanos = this.config.cacheTtl().toNanos();
    }

    /** {@code GET /v1/models/{idOrName}}: empty when the caller's tenant cannot see such a model. */
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS, retryOn = IOException.class)
    public Optional<JsonNode> model(String idOrName, String bearerKey) throws IOException {
        return get("/v1/models/", idOrName, bearerKey);
    }

    /** {@code GET /v1/files/{id}} (the file object carries its {@code task}). */
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS, retryOn = IOException.class)
    public Optional<JsonNode> file(String id, String bearerKey) throws IOException {
        return get("/v1/files/", id, bearerKey);
    }

    /** {@code GET /v1/adapters/{id}}. */
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS, retryOn = IOException.class)
    public Optional<JsonNode> adapter(String id, String bearerKey) throws IOException {
        return get("/v1/adapters/", id, bearerKey);
    }

    private Optional<JsonNode> get(String collection, String id, String bearerKey) throws IOException {
        String cacheKey = ApiKeys.sha256Hex(bearerKey) + collection + id;
        long now = System.nanoTime();
        Cached cached = cache.get(cacheKey);
        if (cached != null && cached.expiresAt - now > 0) {
            return Optional.of(cached.body);
        }
        String url = config.url() + collection + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
        HttpRequest request = HttpRequest.newBuilder(URI.create(url))
                .timeout(config.timeout())
                .header("Authorization", "Bearer " + bearerKey)
                .header("Accept", "application/json")
                .GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking artifact-store for " + collection + id, e);
        } catch (IOException e) {
            LOG.warnf("artifact-store %s did not answer for %s%s: %s", config.url(), collection, id, e.toString());
            throw e;
        }
        int status = response.statusCode();
        if (status == 200) {
            JsonNode body = mapper.readTree(response.body());
            cache.put(cacheKey, new Cached(body, now + cacheTtlNanos));
            return Optional.of(body);
        }
        if (status == 404 || status == 400) {
            return Optional.empty();
        }
        if (status == 401 || status == 403) {
            throw new IOException("artifact-store refused the caller's key (" + status + ") for " + collection + id
                    + ": is it configured to ask this job-api (FOUNDRY_JOB_API_URL)?");
        }
        throw new IOException("artifact-store answered " + status + " for " + collection + id);
    }
}
