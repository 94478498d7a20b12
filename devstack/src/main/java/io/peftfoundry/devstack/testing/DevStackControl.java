package io.peftfoundry.devstack.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny client for the devstack control endpoint, for tests that stop and start a component to see
 * a service's readiness go DOWN and come back UP. JDK classes only.
 *
 * <pre>{@code
 * DevStackControl devstack = DevStackControl.local();
 * devstack.stop("postgres");   // returns once PostgreSQL is down
 * ...                          // assert the service reports DOWN
 * devstack.start("postgres");  // returns once PostgreSQL answers again
 * }</pre>
 */
public final class DevStackControl {

    private static final Pattern ENTRY = Pattern.compile("\"([A-Za-z0-9_-]+)\"\\s*:\\s*\"([A-Z]+)\"");
    private static final Duration ACTION_TIMEOUT = Duration.ofSeconds(180);

    private final URI base;
    private final HttpClient http;

    private DevStackControl(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    /** The devstack on {@code 127.0.0.1:FOUNDRY_DEVSTACK_PORT} (default 9094); the endpoint is loopback only. */
    public static DevStackControl local() {
        return at("127.0.0.1", Integer.parseInt(setting("FOUNDRY_DEVSTACK_PORT", "9094")));
    }

    public static DevStackControl at(String host, int port) {
        return new DevStackControl(URI.create("http://" + host + ":" + port));
    }

    static String setting(String variable, String defaultValue) {
        String v = System.getProperty(variable);
        if (v == null || v.isBlank()) {
            v = System.getenv(variable);
        }
        return v == null || v.isBlank() ? defaultValue : v.trim();
    }

    public URI baseUri() {
        return base;
    }

    /**
     * Component name to {@code UP}/{@code DOWN}: {@code kafka}, {@code postgres}, {@code s3}.
     *
     * @throws UncheckedIOException when the control endpoint does not answer
     */
    public Map<String, String> health() {
        HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve("/health"))
                .timeout(Duration.ofSeconds(10)).GET().build());
        if (response.statusCode() != 200 && response.statusCode() != 503) {
            throw new IllegalStateException("devstack /health answered " + response.statusCode() + ": " + response.body());
        }
        return components(response.body());
    }

    /** True when the devstack answers and all its components are UP; false when it is down or unreachable. */
    public boolean isUp() {
        try {
            Map<String, String> health = health();
            return !health.isEmpty() && health.values().stream().allMatch("UP"::equals);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Stops {@code kafka}, {@code postgres} or {@code s3}; returns once it is stopped. */
    public void stop(String component) {
        action(component, "stop");
    }

    /** Starts {@code kafka}, {@code postgres} or {@code s3} again; returns once it answers. */
    public void start(String component) {
        action(component, "start");
    }

    private void action(String component, String action) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve("/components/" + component + "/" + action))
                .timeout(ACTION_TIMEOUT).POST(HttpRequest.BodyPublishers.noBody()).build());
        // 200: everything up afterwards; 503: the action worked but a component is down (e.g. after a stop)
        if (response.statusCode() != 200 && response.statusCode() != 503) {
            throw new IllegalStateException("devstack " + action + " " + component + " failed with "
                    + response.statusCode() + ": " + response.body());
        }
        String state = components(response.body()).get(component);
        String expected = action.equals("stop") ? "DOWN" : "UP";
        if (!expected.equals(state)) {
            throw new IllegalStateException("after " + action + " " + component + " is " + state + ", expected " + expected);
        }
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("devstack control endpoint " + base + " did not answer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + request.uri(), e);
        }
    }

    /** The {@code components} object of a health document, in order. */
    static Map<String, String> components(String json) {
        Map<String, String> result = new LinkedHashMap<>();
        int at = json.indexOf("\"components\"");
        if (at < 0) {
            return result;
        }
        int open = json.indexOf('{', at);
        int close = json.indexOf('}', open);
        if (open < 0 || close < 0) {
            return result;
        }
        Matcher m = ENTRY.matcher(json.substring(open + 1, close));
        while (m.find()) {
            result.put(m.group(1), m.group(2));
        }
        return result;
    }
}
