package io.peftfoundry.eval.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.UUID;

/**
 * Stands in for job-api (a service, not infrastructure): {@code GET /v1/auth/whoami} knows the keys in
 * {@link #KEYS}; {@code POST /v1/fine_tuning/jobs} records each request and answers a new job id. Also points the
 * eval-service at a closed artifact-store port unless a test resource sets one.
 */
public class JobApiStub implements QuarkusTestResourceLifecycleManager {

    /** API key → tenant. */
    public static final Map<String, String> KEYS = Map.of("key-acme", "acme", "key-globex", "globex");

    /** A recorded POST: its Idempotency-Key and Foundry-On-Behalf-Of headers and JSON body. */
    public record Submission(String idempotencyKey, String onBehalfOf, JsonNode body) {}

    public static final List<Submission> SUBMISSIONS = new CopyOnWriteArrayList<>();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static HttpServer server;

    public static String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public synchronized Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(8));
        server.createContext("/v1/auth/whoami", ex -> {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String tenant = auth == null ? null : KEYS.get(auth.replaceFirst("^Bearer ", ""));
            if (tenant == null) {
                reply(ex, 401, "{\"status\":401}");
            } else {
                reply(ex, 200, "{\"tenant\":\"" + tenant + "\",\"key_id\":\"k\",\"admin\":false}");
            }
        });
        server.createContext("/v1/fine_tuning/jobs", ex -> {
            if (!"POST".equals(ex.getRequestMethod())) {
                reply(ex, 404, "{}");
                return;
            }
            JsonNode body = JSON.readTree(ex.getRequestBody());
            SUBMISSIONS.add(new Submission(ex.getRequestHeaders().getFirst("Idempotency-Key"),
                    ex.getRequestHeaders().getFirst("Foundry-On-Behalf-Of"), body));
            try {
                Thread.sleep(50); // a slow job-api widens the window in which racing completions could double-submit
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // unique like job-api's ids: the evals schema outlives a test run when devstack is reused, and a job id
            // seen before would find the earlier run's spec (job_specs keeps the first spec of a job id)
            reply(ex, 201, "{\"id\":\"ftjob-stub-" + UUID.randomUUID() + "\",\"status\":\"validating_files\"}");
        });
        server.start();
        return Map.of("quarkus.rest-client.job-api.url", url());
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Override
    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
