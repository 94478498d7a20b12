package io.peftfoundry.devstack;

import io.peftfoundry.devstack.control.ControlServer;
import io.peftfoundry.devstack.kafka.KafkaBroker;
import io.peftfoundry.devstack.postgres.PostgresServer;
import io.peftfoundry.devstack.s3.S3Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole embedded infrastructure: a Kafka broker (child JVM), PostgreSQL (child process) and an
 * S3 server (in this JVM), plus the HTTP control endpoint. {@link #start(DevStackConfig)} returns
 * once every component really answers; {@link #close()} stops them all and frees their ports.
 */
public final class DevStack implements AutoCloseable {

    public static final List<String> COMPONENTS = List.of("kafka", "postgres", "s3");

    private static final Logger LOG = LoggerFactory.getLogger(DevStack.class);

    private final DevStackConfig config;
    private final KafkaBroker kafka;
    private final PostgresServer postgres;
    private final S3Server s3;
    private ControlServer control;
    private boolean closed;

    private DevStack(DevStackConfig config) {
        this.config = config;
        this.kafka = new KafkaBroker(config);
        this.postgres = new PostgresServer(config);
        this.s3 = new S3Server(config);
    }

    /**
     * Starts everything and returns when Kafka, PostgreSQL and S3 all answer.
     *
     * @throws PortInUseException when one of the configured ports is taken (nothing is started then)
     * @throws DevStackException  when a component fails to start (those already started are stopped)
     */
    public static DevStack start(DevStackConfig config) {
        requirePortsFree(config);
        requireDataDirUnused(config);
        PostgresServer.stopLeftover(config);
        if (config.fresh()) {
            deleteRecursively(config.dataDir());
        }
        try {
            Files.createDirectories(config.dataDir());
            Files.createDirectories(config.logsDir());
        } catch (IOException e) {
            throw new DevStackException("cannot create data directory " + config.dataDir() + ": " + e.getMessage(), e);
        }
        DevStack stack = new DevStack(config);
        try {
            LOG.info("starting devstack: {}", config);
            stack.kafka.launch(); // the broker's JVM boots while PostgreSQL and S3 start here
            stack.postgres.start();
            stack.s3.start();
            stack.kafka.awaitReady();
            stack.control = ControlServer.start(stack);
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private static void requirePortsFree(DevStackConfig c) {
        Ports.requireFree(c.host(), c.kafkaPort(), DevStackConfig.Setting.KAFKA_PORT.variable());
        Ports.requireFree(c.host(), c.kafkaControllerPort(), DevStackConfig.Setting.KAFKA_CONTROLLER_PORT.variable());
        Ports.requireFree(c.host(), c.postgresPort(), DevStackConfig.Setting.POSTGRES_PORT.variable());
        Ports.requireFree(c.host(), c.s3Port(), DevStackConfig.Setting.S3_PORT.variable());
        Ports.requireFree("127.0.0.1", c.controlPort(), DevStackConfig.Setting.CONTROL_PORT.variable());
    }

    /**
     * Refuses a data directory that another running devstack uses (PostgreSQL's and Kafka's lock
     * files are held), so that {@code --fresh} never deletes live data and two servers never share files.
     */
    private static void requireDataDirUnused(DevStackConfig c) {
        // Kafka's lock first: it is held by another process, so probing it never disturbs a lock of this
        // JVM (closing a channel can release all of this JVM's locks on that file)
        for (Path lock : List.of(c.kafkaDir().resolve(".lock"), c.postgresDir().resolve("epg-lock"))) {
            if (isLockedByAnotherDevStack(lock)) {
                throw new DataDirInUseException(c.dataDir());
            }
        }
    }

    private static boolean isLockedByAnotherDevStack(Path lockFile) {
        if (!Files.isRegularFile(lockFile)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // held by this very JVM
        } catch (IOException e) {
            return false;
        }
    }

    public DevStackConfig config() {
        return config;
    }

    /** {@code 127.0.0.1:9092} by default. */
    public String kafkaBootstrapServers() {
        return config.kafkaBootstrapServers();
    }

    /** {@code jdbc:postgresql://127.0.0.1:5433/foundry} by default. */
    public String postgresJdbcUrl() {
        return config.postgresJdbcUrl();
    }

    /** {@code http://127.0.0.1:9000} by default. */
    public String s3Endpoint() {
        return config.s3Endpoint();
    }

    /** Component name to {@code UP} or {@code DOWN}, in the order kafka, postgres, s3. */
    public Map<String, String> health() {
        Map<String, String> health = new LinkedHashMap<>();
        for (String name : COMPONENTS) {
            health.put(name, component(name).isUp() ? "UP" : "DOWN");
        }
        return health;
    }

    /** True when every component is up. */
    public boolean isUp() {
        return health().values().stream().allMatch("UP"::equals);
    }

    /** Stops one component ({@code kafka}, {@code postgres} or {@code s3}); its data stays. */
    public synchronized void stopComponent(String name) {
        Component c = component(name);
        LOG.info("stopping {} on request", name);
        c.stop();
    }

    /** Starts one component again on the same port and data; returns when it answers. */
    public synchronized void startComponent(String name) {
        Component c = component(name);
        if (c.isUp()) {
            return;
        }
        LOG.info("starting {} on request", name);
        c.start();
    }

    private Component component(String name) {
        switch (name) {
            case "kafka":
                return kafka;
            case "postgres":
                return postgres;
            case "s3":
                return s3;
            default:
                throw new IllegalArgumentException("unknown component '" + name + "'; expected one of " + COMPONENTS);
        }
    }

    /** Stops the control endpoint, Kafka, S3 and PostgreSQL, in that order. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (control != null) {
            control.stop();
        }
        for (Component c : List.of(kafka, s3, postgres)) {
            try {
                c.stop();
            } catch (RuntimeException e) {
                LOG.warn("{} did not stop cleanly: {}", c.name(), e.getMessage());
            }
        }
        LOG.info("devstack stopped");
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new DevStackException("--fresh: cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
