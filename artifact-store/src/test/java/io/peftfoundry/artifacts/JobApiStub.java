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
 * Stands in for job-api's {@code GET /v1/auth/whoami} (job-api is another service, not infrastructure):
 * key {@code jobapi-key-c} belongs to tenant {@code tenant-c}; every other key is unknown (401).
 */
public class JobApiStub implements QuarkusTestResourceLifecycleManager {

    public static final String KEY_C = "jobapi-key-c";
    public static final AtomicInteger WHOAMI_CALLS = new AtomicInteger();
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
            if (("Bearer " + KEY_C).equals(auth)) {
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
        server.start();
        return Map.of("foundry.auth.job-api-url", "http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
