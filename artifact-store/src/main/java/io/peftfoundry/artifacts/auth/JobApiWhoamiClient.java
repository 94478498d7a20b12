package io.peftfoundry.artifacts.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.config.AuthConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/** Asks job-api, the key authority, who a bearer key belongs to ({@code GET /v1/auth/whoami}). */
@ApplicationScoped
public class JobApiWhoamiClient {

    private static final Logger LOG = Logger.getLogger(JobApiWhoamiClient.class);

    private final AuthConfig config;
    private final ObjectMapper mapper;
    private final HttpClient http;

    public JobApiWhoamiClient(AuthConfig config, ObjectMapper mapper) {
        this.config = config;
        this.mapper = mapper;
        this.http = HttpClient.newBuilder().connectTimeout(config.timeout()).build();
    }

    /**
     * @return the caller, or empty when job-api says the key is unknown (401/403/404)
     * @throws IOException when job-api cannot be reached or answers 5xx (retried a bounded number of times)
     */
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS, retryOn = IOException.class)
    public Optional<Caller> whoami(String bearerKey) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(config.jobApiUrl() + "/v1/auth/whoami"))
                .timeout(config.timeout())
                .header("Authorization", "Bearer " + bearerKey)
                .header("Accept", "application/json")
                .GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking job-api", e);
        }
        int status = response.statusCode();
        if (status == 200) {
            JsonNode body = mapper.readTree(response.body());
            String tenant = body.path("tenant").asText(null);
            if (tenant == null || tenant.isBlank()) {
                LOG.warnf("job-api whoami answered 200 without a tenant");
                return Optional.empty();
            }
            return Optional.of(new Caller(tenant, body.path("key_id").asText(null), body.path("admin").asBoolean(false)));
        }
        if (status >= 500) {
            throw new IOException("job-api whoami answered " + status);
        }
        return Optional.empty();
    }
}
