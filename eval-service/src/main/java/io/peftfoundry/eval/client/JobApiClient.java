package io.peftfoundry.eval.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.eval.service.BaselineSubmitter;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * Calls to job-api: {@code GET /v1/auth/whoami} (bearer auth), {@code GET /v1/fine_tuning/jobs/{id}} and
 * {@code POST /v1/fine_tuning/jobs} (baselines) with the service key — a baseline in the name of the adapter's tenant
 * ({@value #ON_BEHALF_OF}), so it is the tenant's job. Every call has a timeout; connection errors
 * and 5xx answers are retried up to 3 times with a doubling back-off, 4xx answers are not.
 */
public class JobApiClient implements BaselineSubmitter {

    private static final Logger LOG = Logger.getLogger(JobApiClient.class);
    private static final int ATTEMPTS = 3;
    /** job-api's header for the service key acting for a tenant. */
    public static final String ON_BEHALF_OF = "Foundry-On-Behalf-Of";

    /** The caller behind an API key. */
    public record Caller(String tenant, boolean admin) {}

    private final URI baseUrl;
    private final String serviceKey;
    private final Duration timeout;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    public JobApiClient(String baseUrl, String serviceKey, Duration timeout) {
        this.baseUrl = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        this.serviceKey = serviceKey;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** The key's tenant, or empty when job-api does not know the key (401/403). */
    public Optional<Caller> whoami(String apiKey) throws IOException {
        HttpResponse<String> r = send(HttpRequest.newBuilder(baseUrl.resolve("/v1/auth/whoami"))
                .header("Authorization", "Bearer " + apiKey).GET());
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            return Optional.empty();
        }
        JsonNode n = expect(r, 200, "whoami");
        return Optional.of(new Caller(n.path("tenant").asText(), n.path("admin").asBoolean(false)));
    }

    /** The job as the service key sees it (job-api shows a key its own tenant's jobs only). */
    public Optional<JsonNode> job(String jobId) throws IOException {
        HttpResponse<String> r = send(HttpRequest.newBuilder(baseUrl.resolve("/v1/fine_tuning/jobs/"
                + URLEncoder.encode(jobId, StandardCharsets.UTF_8))).header("Authorization", "Bearer " + key()).GET());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        return Optional.of(expect(r, 200, "job " + jobId));
    }

    @Override
    public String submit(ObjectNode spec, String idempotencyKey, String tenant) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(baseUrl.resolve("/v1/fine_tuning/jobs"))
                .header("Authorization", "Bearer " + key())
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", idempotencyKey)
                .POST(HttpRequest.BodyPublishers.ofString(spec.toString()));
        if (tenant != null && !tenant.isBlank()) {
            b.header(ON_BEHALF_OF, tenant);
        }
        HttpResponse<String> r = send(b);
        if (r.statusCode() != 200 && r.statusCode() != 201) {
            throw new IOException("job-api refused the baseline job: HTTP " + r.statusCode() + " " + r.body());
        }
        return json.readTree(r.body()).path("id").asText();
    }

    private String key() throws IOException {
        if (serviceKey == null || serviceKey.isBlank()) {
            throw new IOException("no service key: set FOUNDRY_ADMIN_KEY (job-api admin key) for the eval-service");
        }
        return serviceKey;
    }

    private JsonNode expect(HttpResponse<String> r, int status, String what) throws IOException {
        if (r.statusCode() != status) {
            throw new IOException("job-api " + what + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return json.readTree(r.body());
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws IOException {
        HttpRequest req = b.timeout(timeout).build();
        long backoff = 200;
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() < 500) {
                    return r;
                }
                last = new IOException("job-api " + req.method() + " " + req.uri().getPath() + ": HTTP " + r.statusCode());
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (attempt < ATTEMPTS) {
                LOG.warnf("job-api %s %s failed (%s), retry %d of %d", req.method(), req.uri().getPath(),
                        last.getMessage(), attempt, ATTEMPTS - 1);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
                backoff *= 2;
            }
        }
        throw last;
    }
}
