package io.peftfoundry.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Stands in for job-api and artifact-store behind the proxy (they are services, not infrastructure): an HTTP server
 * that answers every request with what it received — method, path, query, the headers the proxy must pass, the body —
 * and, under {@code /events}, a short server-sent-event stream. eval-service's URL points at a closed port, so the
 * proxy's 502 can be tested.
 */
public class UpstreamStub implements QuarkusTestResourceLifecycleManager {

    private HttpServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/", UpstreamStub::answer);
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        return Map.of(
                "foundry.console.job-api-url", base + "/job-api",
                "foundry.console.artifact-store-url", base + "/artifact-store/",
                "foundry.console.eval-service-url", "http://127.0.0.1:" + closedPort(),
                "foundry.console.connect-timeout", "1s");
    }

    private static void answer(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getPath();
        if (path.endsWith("/events") && "text/event-stream".equals(ex.getRequestHeaders().getFirst("Accept"))) {
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                String last = ex.getRequestHeaders().getFirst("Last-Event-ID");
                out.write(("id: 2\nevent: metrics\ndata: {\"after\":\"" + last + "\",\"step\":2}\n\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                out.write("id: 3\nevent: status\ndata: {\"status\":\"succeeded\"}\n\n".getBytes(StandardCharsets.UTF_8));
            }
            return;
        }
        int status = path.endsWith("/missing") ? 404 : 200;
        String json = "{\"method\":\"" + ex.getRequestMethod() + "\""
                + ",\"path\":\"" + path + "\""
                + ",\"query\":" + quoted(ex.getRequestURI().getRawQuery())
                + ",\"authorization\":" + quoted(ex.getRequestHeaders().getFirst("Authorization"))
                + ",\"idempotency_key\":" + quoted(ex.getRequestHeaders().getFirst("Idempotency-Key"))
                + ",\"content_type\":" + quoted(ex.getRequestHeaders().getFirst("Content-Type"))
                + ",\"body_length\":" + body.length
                + ",\"body\":" + quoted(new String(body, StandardCharsets.UTF_8)) + "}";
        byte[] out = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", status == 200 ? "application/json" : "application/problem+json");
        ex.getResponseHeaders().add("X-Upstream", "stub");
        ex.sendResponseHeaders(status, out.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(out);
        }
    }

    private static String quoted(String s) {
        if (s == null) {
            return "null";
        }
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r") + "\"";
    }

    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
