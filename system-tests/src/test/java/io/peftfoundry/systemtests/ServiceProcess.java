package io.peftfoundry.systemtests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service run as an OS process from its built {@code target/quarkus-app/quarkus-run.jar}, on a free port, with its
 * log in {@code system-tests/target/system-tests/<name>.log}. It is ready when {@code /q/health/ready} says 200.
 */
final class ServiceProcess {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String name;
    final String module;
    final int port;
    final Map<String, String> env;
    private final List<String> jvmArgs;
    private Process process;

    ServiceProcess(String name, String module, String portVariable, Map<String, String> env, List<String> jvmArgs) {
        this.name = name;
        this.module = module;
        this.port = freePort();
        this.env = new LinkedHashMap<>(env);
        this.env.put(portVariable, Integer.toString(port));
        this.jvmArgs = jvmArgs;
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("mvnw"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("repository root (with mvnw) not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    /**
     * The devstack settings every service needs (host, ports, credentials), taken from system properties or the
     * environment ({@code source <worktree>.env} sets the ports), only those that are set.
     */
    static Map<String, String> devstackEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String v : List.of("FOUNDRY_HOST", "FOUNDRY_KAFKA_PORT", "FOUNDRY_PG_PORT", "FOUNDRY_S3_PORT",
                "FOUNDRY_PG_PASSWORD", "FOUNDRY_S3_ACCESS_KEY", "FOUNDRY_S3_SECRET_KEY", "FOUNDRY_S3_BUCKET")) {
            String value = System.getProperty(v);
            if (value == null || value.isBlank()) {
                value = System.getenv(v);
            }
            if (value != null && !value.isBlank()) {
                env.put(v, value);
            }
        }
        return env;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    void start() {
        Path repo = repoRoot();
        Path jar = repo.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " missing: build it first (./mvnw -B -pl " + module + " -am install -DskipTests)");
        }
        Path log = repo.resolve("system-tests/target/system-tests/" + name + ".log");
        try {
            Files.createDirectories(log.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(jar.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name + ": " + e.getMessage(), e);
        }
        System.err.println("[system-tests] " + name + " pid " + process.pid() + " on port " + port + ", log " + log);
    }

    /** Waits until {@code /q/health/ready} answers 200 (or the process dies). */
    void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with code " + process.exitValue()
                        + " during start-up; see system-tests/target/system-tests/" + name + ".log");
            }
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException(name + " not ready within " + timeout);
    }

    /** SIGKILL: no shutdown hooks, no clean-up, like a machine that died. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL if it does not stop within 30 s. */
    void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
