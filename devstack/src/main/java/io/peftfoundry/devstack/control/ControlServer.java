package io.peftfoundry.devstack.control;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.peftfoundry.devstack.DevStack;
import io.peftfoundry.devstack.DevStackException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The devstack's HTTP control endpoint (loopback only):
 * {@code GET /health}, {@code POST /components/{kafka|postgres|s3}/stop} and {@code .../start}.
 */
public final class ControlServer {

    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    private static final Pattern COMPONENT_ACTION = Pattern.compile("^/components/([a-z0-9]+)/(stop|start)/?$");

    private final DevStack stack;
    private final HttpServer server;
    private final ExecutorService executor;

    private ControlServer(DevStack stack, HttpServer server, ExecutorService executor) {
        this.stack = stack;
        this.server = server;
        this.executor = executor;
    }

    public static ControlServer start(DevStack stack) {
        String host = "127.0.0.1"; // loopback only, whatever FOUNDRY_HOST says: stopping components is not for the network
        int port = stack.config().controlPort();
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), port), 16);
            ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "devstack-control");
                t.setDaemon(true);
                return t;
            });
            ControlServer control = new ControlServer(stack, server, executor);
            server.createContext("/health", control::health);
            server.createContext("/components/", control::component);
            server.setExecutor(executor);
            server.start();
            LOG.info("control endpoint on http://{}:{}/health", host, port);
            return control;
        } catch (IOException e) {
            throw new DevStackException("could not open the control endpoint on " + host + ":" + port
                    + " (FOUNDRY_DEVSTACK_PORT): " + e.getMessage(), e);
        }
    }

    private void health(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                send(exchange, 405, "{\"error\":\"use GET\"}");
                return;
            }
            sendHealth(exchange);
        }
    }

    private void component(HttpExchange exchange) throws IOException {
        try (exchange) {
            Matcher m = COMPONENT_ACTION.matcher(exchange.getRequestURI().getPath());
            if (!m.matches()) {
                send(exchange, 404, "{\"error\":\"expected POST /components/{kafka|postgres|s3}/{stop|start}\"}");
                return;
            }
            if (!"POST".equals(exchange.getRequestMethod())) {
                send(exchange, 405, "{\"error\":\"use POST\"}");
                return;
            }
            String name = m.group(1);
            if (!DevStack.COMPONENTS.contains(name)) {
                send(exchange, 404, "{\"error\":\"unknown component " + name + "; expected kafka, postgres or s3\"}");
                return;
            }
            try {
                if (m.group(2).equals("stop")) {
                    stack.stopComponent(name);
                } else {
                    stack.startComponent(name);
                }
            } catch (RuntimeException e) {
                LOG.warn("{} {} failed: {}", m.group(2), name, e.getMessage());
                send(exchange, 500, "{\"error\":\"" + json(m.group(2) + " " + name + " failed: " + e.getMessage()) + "\"}");
                return;
            }
            sendHealth(exchange);
        }
    }

    private void sendHealth(HttpExchange exchange) throws IOException {
        Map<String, String> health = stack.health();
        boolean up = health.values().stream().allMatch("UP"::equals);
        send(exchange, up ? 200 : 503, healthJson(health));
    }

    /** {@code {"status":"UP","components":{"kafka":"UP","postgres":"UP","s3":"UP"}}}. */
    public static String healthJson(Map<String, String> health) {
        boolean up = health.values().stream().allMatch("UP"::equals);
        StringBuilder sb = new StringBuilder("{\"status\":\"").append(up ? "UP" : "DOWN").append("\",\"components\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : health.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
        }
        return sb.append("}}").toString();
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "");
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    public void stop() {
        server.stop(0);
        executor.shutdownNow();
    }
}
