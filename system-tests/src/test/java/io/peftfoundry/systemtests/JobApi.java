package io.peftfoundry.systemtests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** job-api's REST API as a user calls it, with one bearer key. */
final class JobApi {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final String baseUrl;
    final String key;

    JobApi(String baseUrl, String key) {
        this.baseUrl = baseUrl;
        this.key = key;
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key);
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return HTTP.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json == null ? "" : json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(request(path).header("Accept", "application/json").GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** With the admin key: {@code POST /v1/admin/tenants} then {@code POST /v1/admin/tenants/{id}/keys} → the key. */
    String createTenantKey(String tenantId) throws IOException, InterruptedException {
        HttpResponse<String> t = post("/v1/admin/tenants", "{\"id\": \"" + tenantId + "\", \"name\": \"" + tenantId + "\"}");
        assertEquals(201, t.statusCode(), "POST /v1/admin/tenants: " + t.body());
        HttpResponse<String> k = post("/v1/admin/tenants/" + tenantId + "/keys", "{\"name\": \"system-tests\"}");
        assertEquals(201, k.statusCode(), "POST /v1/admin/tenants/" + tenantId + "/keys: " + k.body());
        return JSON.readTree(k.body()).path("key").asText();
    }

    HttpResponse<String> createJob(String specJson, String idempotencyKey) throws IOException, InterruptedException {
        return HTTP.send(request("/v1/fine_tuning/jobs").header("Content-Type", "application/json")
                .header("Idempotency-Key", idempotencyKey)
                .POST(HttpRequest.BodyPublishers.ofString(specJson)).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode job(String id) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/v1/fine_tuning/jobs/" + id);
        assertEquals(200, r.statusCode(), "GET job " + id + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** {@code POST …/{id}/cancel|pause|resume}; 200 expected. */
    JsonNode control(String id, String action) throws IOException, InterruptedException {
        HttpResponse<String> r = post("/v1/fine_tuning/jobs/" + id + "/" + action, null);
        assertEquals(200, r.statusCode(), action + " " + id + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** Polls {@code GET …/{id}} until the job object matches; fails with the last object seen. */
    JsonNode awaitJob(String id, Predicate<JsonNode> p, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = job(id);
            } catch (java.net.http.HttpTimeoutException slow) {
                // one answer slower than the request timeout (an event loop starved at load 90 on two cores) is not
                // the job's state: poll again
                System.err.println("[system-tests] GET job " + id + " timed out; polling again");
                continue;
            }
            if (p.test(last)) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(what + " of " + id + " not seen within " + timeout + "; last: " + last);
    }

    JsonNode awaitStatus(String id, String status, Duration timeout) throws Exception {
        return awaitJob(id, j -> status.equals(j.path("status").asText()), timeout, "status " + status);
    }

    /** {@code GET …/{id}/events} with {@code Accept: text/event-stream}: every event's data until the stream closes. */
    List<JsonNode> streamEvents(String id, Duration timeout) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v1/fine_tuning/jobs/"
                        + id + "/events")).header("Authorization", "Bearer " + key)
                .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode(), "SSE of " + id);
        List<JsonNode> events = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Stream<String> lines = r.body()) {
            Iterator<String> it = lines.iterator();
            while (it.hasNext() && System.nanoTime() < deadline) {
                String line = it.next();
                if (line.startsWith("data:")) {
                    events.add(JSON.readTree(line.substring(5).trim()));
                }
            }
        }
        return events;
    }
}
