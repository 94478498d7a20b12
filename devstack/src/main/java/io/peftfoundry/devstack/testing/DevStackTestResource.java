package io.peftfoundry.devstack.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Gives a {@code @QuarkusTest} the real Kafka, PostgreSQL and S3 on the default (or FOUNDRY_*) ports.
 *
 * <p>If a devstack already answers on {@code FOUNDRY_DEVSTACK_PORT} (e.g. from {@code ./foundry up}),
 * it is reused and never stopped. Otherwise a devstack is launched as a separate process from
 * {@code <repo>/devstack/target/devstack.jar} with fresh data in {@code <repo>/target/devstack-test-data}
 * and its log in {@code <repo>/target/devstack-test.log}. One devstack serves every test class in the
 * JVM; the one this class launched is stopped when the test JVM exits (shutdown hook), and also dies
 * on its own if the test JVM is killed (its stdin pipe closes).
 *
 * <p>Uses only JDK classes and the Quarkus test-resource interface, so the services can depend on
 * devstack in test scope with every transitive dependency excluded.
 */
public class DevStackTestResource implements QuarkusTestResourceLifecycleManager {

    private static final long START_TIMEOUT_MILLIS = 180_000;
    private static final Object LOCK = new Object();

    private static Process launched;
    private static OutputStream launchedStdin;
    private static int users;

    @Override
    public Map<String, String> start() {
        synchronized (LOCK) {
            users++;
            DevStackControl control = DevStackControl.local();
            if (control.isUp()) {
                return Map.of();
            }
            if (launched == null || !launched.isAlive()) {
                launch();
            }
            awaitUp(control);
            return Map.of();
        }
    }

    /**
     * Releases this user. The devstack keeps running for the other test classes of this JVM and is
     * stopped by the shutdown hook when the JVM exits, so the next class does not wait for a restart.
     */
    @Override
    public void stop() {
        synchronized (LOCK) {
            users = Math.max(0, users - 1);
        }
    }

    /** Stops the devstack this JVM launched, if any; a devstack found already running is left alone. */
    public static void stopLaunched() {
        synchronized (LOCK) {
            Process p = launched;
            launched = null;
            if (p == null) {
                return;
            }
            p.destroy(); // SIGTERM: the devstack stops Kafka, S3 and PostgreSQL
            try {
                if (!p.waitFor(90, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
            try {
                if (launchedStdin != null) {
                    launchedStdin.close();
                }
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    private static void launch() {
        Path repo = findRepoRoot();
        Path target = repo.resolve("devstack").resolve("target");
        // a devstack on other ports (FOUNDRY_DEVSTACK_PORT set) gets its own files, so two never share data
        String port = DevStackControl.setting("FOUNDRY_DEVSTACK_PORT", "9094");
        String suffix = port.equals("9094") ? "" : "-" + port;
        Path logFile = repo.resolve("target").resolve("devstack-test" + suffix + ".log");
        Path dataDir = repo.resolve("target").resolve("devstack-test-data" + suffix);
        try {
            Files.createDirectories(logFile.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx768m");
        command.add("-cp");
        command.add(target.resolve("devstack.jar") + File.pathSeparator + target.resolve("lib") + File.separator + "*");
        command.add("io.peftfoundry.devstack.Main");
        command.add("--data-dir");
        command.add(dataDir.toString());
        command.add("--fresh");
        command.add("--exit-on-stdin-eof");
        ProcessBuilder pb = new ProcessBuilder(command).directory(repo.toFile());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        try {
            launched = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not launch devstack: " + e.getMessage(), e);
        }
        launchedStdin = launched.getOutputStream(); // kept open: closing it (or our death) stops the devstack
        System.err.println("[devstack] launched pid " + launched.pid() + ", log " + logFile);
        Runtime.getRuntime().addShutdownHook(new Thread(DevStackTestResource::stopLaunched, "devstack-test-stop"));
    }

    private static void awaitUp(DevStackControl control) {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (control.isUp()) {
                return;
            }
            Process p = launched;
            // exit code 2 = a port was taken: another devstack may be starting there, so keep waiting for it
            if (p != null && !p.isAlive() && p.exitValue() != 2) {
                throw new IllegalStateException("devstack exited with code " + p.exitValue()
                        + " during start-up; see target/devstack-test*.log in the repository root");
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for devstack", e);
            }
        }
        throw new IllegalStateException("devstack did not report UP on " + control.baseUri() + "/health within "
                + START_TIMEOUT_MILLIS / 1000 + " s; see target/devstack-test*.log in the repository root"
                + (launched != null && !launched.isAlive() ? " (the devstack launched here exited with code "
                + launched.exitValue() + ": a port or its data directory is taken by another devstack)" : ""));
    }

    /** Walks up from the working directory to the folder holding {@code devstack/target/devstack.jar}. */
    static Path findRepoRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("devstack").resolve("target").resolve("devstack.jar"))) {
                return d;
            }
        }
        throw new IllegalStateException("no devstack/target/devstack.jar above " + dir
                + "; build it first: ./mvnw -B -pl devstack -am install -DskipTests");
    }
}
