package io.peftfoundry.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the devstack until SIGTERM/SIGINT:
 * {@code java -cp 'devstack/target/devstack.jar:devstack/target/lib/*' io.peftfoundry.devstack.Main [--fresh] [--data-dir DIR]}.
 *
 * <p>Exit codes: 0 after a clean shutdown, 2 for a taken port, a data directory in use or a bad option,
 * 1 for any other failure.
 */
public final class Main {

    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "io/peftfoundry/devstack/logback-devstack.xml");
        }
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            usage(System.out);
            return;
        }
        DevStackConfig config;
        try {
            config = DevStackConfig.fromArgs(args);
        } catch (IllegalArgumentException e) {
            System.err.println("devstack: " + e.getMessage());
            usage(System.err);
            System.exit(EXIT_USAGE);
            return;
        }
        DevStack stack;
        try {
            stack = DevStack.start(config);
        } catch (PortInUseException | DataDirInUseException e) {
            System.err.println("devstack: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        } catch (RuntimeException e) {
            System.err.println("devstack: start-up failed: " + e.getMessage());
            e.printStackTrace(System.err);
            System.exit(EXIT_FAILURE);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            stopped.countDown();
        }, "devstack-shutdown"));
        if (Arrays.asList(args).contains("--exit-on-stdin-eof")) {
            exitWhenStdinCloses();
        }
        System.out.println(readyLine(config));
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code DEVSTACK READY kafka=127.0.0.1:9092 postgres=127.0.0.1:5433 s3=http://127.0.0.1:9000}. */
    public static String readyLine(DevStackConfig config) {
        return "DEVSTACK READY kafka=" + config.kafkaBootstrapServers()
                + " postgres=" + config.host() + ":" + config.postgresPort()
                + " s3=" + config.s3Endpoint();
    }

    /** For a parent that keeps our stdin open as a pipe: when it dies, the pipe closes and we shut down. */
    private static void exitWhenStdinCloses() {
        Thread t = new Thread(() -> {
            try (InputStream in = System.in) {
                byte[] buffer = new byte[256];
                while (in.read(buffer) >= 0) {
                    // only waiting for end of stream
                }
            } catch (IOException ignored) {
                // parent gone
            }
            System.err.println("devstack: standard input closed, shutting down");
            System.exit(0);
        }, "stdin-watchdog");
        t.setDaemon(true);
        t.start();
    }

    private static void usage(PrintStream out) {
        out.println("usage: java -cp 'devstack.jar:lib/*' io.peftfoundry.devstack.Main [options]");
        out.println("  --fresh                     delete the data directory first");
        for (DevStackConfig.Setting s : DevStackConfig.Setting.values()) {
            out.printf("  %-27s env %s (default %s)%n", s.flag() + " VALUE", s.variable(), s.defaultValue());
        }
        out.println("  --exit-on-stdin-eof         shut down when standard input closes (used by test harnesses)");
    }
}
