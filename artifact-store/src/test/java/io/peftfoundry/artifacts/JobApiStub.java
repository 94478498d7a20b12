package io.peftfoundry.artifacts;

import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stands in for job-api (another service, not infrastructure). {@code GET /v1/auth/whoami}: key {@code jobapi-key-c}
 * belongs to tenant {@code tenant-c}; every other key is unknown (401). {@code GET /v1/fine_tuning/jobs/{id}}: 200 when
 * {@link #JOBS} says the job is the tenant of the presented key (the static test keys, or {@code key-admin} acting for
 * the tenant named in {@code Foundry-On-Behalf-Of}), else 404 — as job-api shows a key its own tenant's jobs only.
 */
public class JobApiStub implements QuarkusTestResourceLifecycleManager {

    public static final String KEY_C = "jobapi-key-c";
    public static final AtomicInteger WHOAMI_CALLS = new AtomicInteger();
    /** Resolves to tenant-c too, but the first whoami for it answers 503 (a job-api restarting). */
    public static final String FLAKY_KEY = "jobapi-key-flaky";
    private static final AtomicInteger FLAKY_CALLS = new AtomicInteger();
    /** Job id → owning tenant, as tests register them. */
    public static final Map<String, String> JOBS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final Map<String, String> KEY_TENANTS = Map.of("key-tenant-a", "tenant-a", "key-tenant-b", "tenant-b",
            KEY_C, "tenant-c");
    private HttpServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/v1/auth/whoami", exchange -> {
            WHOAMI_CALLS.incrementAndGet();
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            byte[] body;
            int status;
            if (("Bearer " + FLAKY_KEY).equals(auth) && FLAKY_CALLS.getAndIncrement() == 0) {
                status = 503;
                body = "{\"title\":\"Service Unavailable\",\"status\":503}".getBytes(StandardCharsets.UTF_8);
            } else if (("Bearer " + KEY_C).equals(auth) || ("Bearer " + FLAKY_KEY).equals(auth)) {
                status = 200;
                body = "{\"tenant\":\"tenant-c\",\"key_id\":\"key-c-id\",\"admin\":false}".getBytes(StandardCharsets.UTF_8);
            } else {
                status = 401;
                body = "{\"title\":\"Unauthorized\",\"status\":401}".getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/v1/fine_tuning/jobs/", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            String key = auth == null ? "" : auth.replaceFirst("^Bearer ", "");
            String onBehalfOf = exchange.getRequestHeaders().getFirst("Foundry-On-Behalf-Of");
            String tenant = "key-admin".equals(key) ? onBehalfOf : KEY_TENANTS.get(key);
            String job = exchange.getRequestURI().getPath().substring("/v1/fine_tuning/jobs/".length());
            boolean visible = tenant != null && tenant.equals(JOBS.get(job));
            byte[] body = (visible ? "{\"id\":\"" + job + "\",\"object\":\"fine_tuning.job\"}"
                    : "{\"title\":\"Not found\",\"status\":404}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(visible ? 200 : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return Map.of("quarkus.rest-client.job-api.url", "http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
