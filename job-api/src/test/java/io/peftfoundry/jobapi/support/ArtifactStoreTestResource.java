package io.peftfoundry.jobapi.support;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

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
import java.util.List;
import java.util.Map;

/**
 * The real artifact-store for job-api's tests: its built app ({@code artifact-store/target/quarkus-app/quarkus-run.jar},
 * built before job-api because job-api declares a pom-typed test dependency on it) launched as a process on a free
 * port against the same devstack, with the test tenants' keys as static keys and no built-in model import. Sets
 * {@code quarkus.rest-client.artifact-store.url} for job-api. One process per test JVM, stopped when the JVM exits.
 */
public class ArtifactStoreTestResource implements QuarkusTestResourceLifecycleManager {

    private static final Object LOCK = new Object();
    private static Process process;
    private static String url;

    @Override
    public Map<String, String> start() {
        new DevStackTestResource().start(); // artifact-store needs PostgreSQL and S3 first
        synchronized (LOCK) {
            if (process == null || !process.isAlive()) {
                launch();
            }
            return Map.of("quarkus.rest-client.artifact-store.url", url);
        }
    }

    @Override
    public void stop() {
        // kept for the other test classes of this JVM; the shutdown hook stops it
    }

    /** Base URL of the launched artifact-store. */
    public static String url() {
        return url;
    }

    private static void launch() {
        Path repo = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (repo != null && !Files.isDirectory(repo.resolve("artifact-store"))) {
            repo = repo.getParent();
        }
        if (repo == null) {
            throw new IllegalStateException("no artifact-store folder above " + System.getProperty("user.dir"));
        }
        Path jar = repo.resolve("artifact-store/target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing; build it: ./mvnw -B -pl artifact-store -am install -DskipTests");
        }
        int port = freePort();
        Path work = repo.resolve("job-api/target/artifact-store-for-tests");
        try {
            Files.createDirectories(work);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m", "-jar", jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
        pb.environment().put("FOUNDRY_ARTIFACT_STORE_PORT", Integer.toString(port));
        pb.environment().put("FOUNDRY_STATIC_KEYS", TestTenants.staticKeys());
        pb.environment().put("FOUNDRY_IMPORT_BUILTIN_MODELS", "false");
        pb.environment().put("FOUNDRY_DATA_DIR", work.resolve("data").toString());
        // job-api's test port is random, so the store never asks it: every test key is a static key
        pb.environment().put("FOUNDRY_JOB_API_URL", "http://127.0.0.1:9");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.to(work.resolve("artifact-store.log").toFile()));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            started.destroy();
            try {
                started.waitFor();
            } catch (InterruptedException ignored) {
                started.destroyForcibly();
            }
        }, "artifact-store-test-stop"));
        url = "http://127.0.0.1:" + port;
        awaitReady(work.resolve("artifact-store.log"));
    }

    private static void awaitReady(Path log) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("artifact-store exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("artifact-store not ready within 180 s; see " + log);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
