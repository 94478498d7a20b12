package io.peftfoundry.eval.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Runs the real artifact-store (its built jar, {@code artifact-store/target/quarkus-app/quarkus-run.jar}) as a
 * process on a free port against the same devstack, with static keys for the test tenants and an admin key for the
 * eval-service, and no built-in model import. Build it first:
 * {@code ./mvnw -B -pl artifact-store -am install -DskipTests}.
 */
public class ArtifactStoreProcess implements QuarkusTestResourceLifecycleManager {

    public static final String ADMIN_KEY = "eval-test-admin-key";
    private static Process process;
    private static int port;

    public static String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public synchronized Map<String, String> start() {
        Path jar = Path.of("..", "artifact-store", "target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build artifact-store first"
                    + " (./mvnw -B -pl artifact-store -am install -DskipTests)");
        }
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        try {
            Path log = Path.of("target", "artifact-store-process.log").toAbsolutePath();
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-jar", jar.toString());
            pb.environment().put("FOUNDRY_ARTIFACT_STORE_PORT", Integer.toString(port));
            // the service key is a static admin key there: no job-api answers in these tests
            pb.environment().put("FOUNDRY_STATIC_KEYS", "key-acme=acme,key-globex=globex," + ADMIN_KEY + "=admin");
            pb.environment().put("FOUNDRY_IMPORT_BUILTIN_MODELS", "false");
            // no job-api in these tests: unknown keys must not wait on one
            pb.environment().put("FOUNDRY_JOB_API_URL", "http://127.0.0.1:1");
            pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
            process = pb.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!ready()) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("artifact-store exited with " + process.exitValue() + "; see " + log);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("artifact-store not ready within 120 s; see " + log);
                }
                Thread.sleep(500);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return Map.of("foundry.eval.artifact-store-url", url(), "foundry.eval.admin-key", ADMIN_KEY);
    }

    private static boolean ready() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url() + "/q/health/ready").toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(3000);
            return c.getResponseCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** After devstack (order 0): the store needs its PostgreSQL and S3. */
    @Override
    public int order() {
        return 100;
    }

    @Override
    public synchronized void stop() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            process = null;
        }
    }
}
