package io.peftfoundry.devstack.kafka;

import io.peftfoundry.devstack.Component;
import io.peftfoundry.devstack.DevStackConfig;
import io.peftfoundry.devstack.DevStackException;
import io.peftfoundry.devstack.Ports;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A single-node KRaft Kafka broker (broker and controller in one) running in a child JVM on this
 * JVM's classpath, so that it can be stopped and started on its own and never shares classes or
 * logging with the parent. Logs go to {@code <data>/logs/kafka.log}.
 */
public final class KafkaBroker implements Component {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final DevStackConfig config;
    private volatile Process process;
    private volatile boolean ready;

    public KafkaBroker(DevStackConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "kafka";
    }

    @Override
    public synchronized void start() {
        launch();
        awaitReady();
    }

    /** Starts the child JVM without waiting for it; {@link #awaitReady()} waits. */
    public synchronized void launch() {
        if (process != null && process.isAlive()) {
            return;
        }
        ready = false;
        try {
            Files.createDirectories(config.kafkaDir());
            Files.createDirectories(config.logsDir());
            Path properties = writeServerProperties();
            formatIfNeeded(properties);
            ProcessBuilder pb = new ProcessBuilder(javaCommand(KafkaChildMain.class.getName(), properties.toString()));
            Path log = logFile();
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            // stdin stays a pipe: the child exits when it closes (see KafkaChildMain)
            process = pb.start();
            LOG.info("Kafka broker starting as pid {} on {}:{} (log {})", process.pid(), config.host(), config.kafkaPort(), log);
        } catch (IOException e) {
            throw new DevStackException("could not launch the Kafka broker: " + e.getMessage(), e);
        }
    }

    /** Waits until the broker answers an AdminClient describeCluster, then creates the platform topics. */
    public void awaitReady() {
        Process p = process;
        if (p == null) {
            throw new DevStackException("Kafka broker was not launched");
        }
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Exception last = null;
        try (Admin admin = Admin.create(adminProperties())) {
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    throw new DevStackException("Kafka broker exited with code " + p.exitValue() + " during start-up; see "
                            + logFile() + ":\n" + tail(logFile(), 30));
                }
                if (Ports.answers(config.host(), config.kafkaPort(), 500)) {
                    try {
                        int nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                        if (nodes > 0) {
                            createTopics(admin);
                            ready = true;
                            LOG.info("Kafka broker ready on {}", config.kafkaBootstrapServers());
                            return;
                        }
                    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                        last = e;
                    }
                }
                Thread.sleep(250);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevStackException("interrupted while waiting for Kafka", e);
        }
        throw new DevStackException("Kafka broker did not become ready within " + READY_TIMEOUT.toSeconds()
                + " s; see " + logFile() + (last == null ? "" : " (last error: " + last.getMessage() + ")"));
    }

    private void createTopics(Admin admin) throws InterruptedException, ExecutionException {
        Set<String> existing = admin.listTopics().names().get();
        List<NewTopic> missing = new ArrayList<>();
        for (Map.Entry<String, Integer> t : KafkaTopics.all().entrySet()) {
            if (!existing.contains(t.getKey())) {
                missing.add(new NewTopic(t.getKey(), t.getValue(), (short) 1));
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        try {
            admin.createTopics(missing).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        LOG.info("created Kafka topics {}", missing.stream().map(NewTopic::name).toList());
    }

    @Override
    public synchronized void stop() {
        Process p = process;
        ready = false;
        if (p == null) {
            return;
        }
        process = null;
        if (p.isAlive()) {
            p.destroy(); // SIGTERM: Kafka's own shutdown hook does a controlled shutdown
            try {
                if (!p.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    LOG.warn("Kafka broker did not stop within {} s, killing it", STOP_TIMEOUT.toSeconds());
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        LOG.info("Kafka broker stopped");
    }

    @Override
    public boolean isUp() {
        Process p = process;
        return ready && p != null && p.isAlive() && Ports.answers(config.host(), config.kafkaPort(), 1000);
    }

    /** The child's process id, or -1 when not running. */
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    private Properties adminProperties() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        return props;
    }

    private Path logFile() {
        return config.logsDir().resolve("kafka.log");
    }

    private Path writeServerProperties() throws IOException {
        String host = config.host();
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@" + host + ":" + config.kafkaControllerPort());
        p.setProperty("listeners", "PLAINTEXT://" + host + ":" + config.kafkaPort()
                + ",CONTROLLER://" + host + ":" + config.kafkaControllerPort());
        p.setProperty("advertised.listeners", "PLAINTEXT://" + host + ":" + config.kafkaPort());
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
        p.setProperty("log.dirs", config.kafkaDir().toString());
        p.setProperty("num.partitions", "1");
        p.setProperty("default.replication.factor", "1");
        p.setProperty("min.insync.replicas", "1");
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "10");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "4");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("auto.create.topics.enable", "true");
        p.setProperty("num.network.threads", "2");
        p.setProperty("num.io.threads", "4");
        p.setProperty("num.recovery.threads.per.data.dir", "1");
        p.setProperty("log.retention.hours", "168");
        p.setProperty("log.segment.bytes", String.valueOf(64 * 1024 * 1024));
        Path file = config.dataDir().resolve("kafka-server.properties");
        try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(out, "written by devstack on every start; edit the devstack code, not this file");
        }
        return file;
    }

    /** Formats the log directory once; the cluster id is kept in {@code <data>/kafka-cluster-id}. */
    private void formatIfNeeded(Path properties) throws IOException {
        if (Files.exists(config.kafkaDir().resolve("meta.properties"))) {
            return;
        }
        Path idFile = config.dataDir().resolve("kafka-cluster-id");
        String clusterId;
        if (Files.exists(idFile)) {
            clusterId = Files.readString(idFile, StandardCharsets.UTF_8).trim();
        } else {
            clusterId = Uuid.randomUuid().toString();
            Files.writeString(idFile, clusterId + "\n", StandardCharsets.UTF_8);
        }
        // a child JVM, because StorageTool.main calls System.exit
        ProcessBuilder pb = new ProcessBuilder(javaCommand("kafka.tools.StorageTool",
                "format", "-t", clusterId, "-c", properties.toString(), "--ignore-formatted"));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        Process p = pb.start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new DevStackException("formatting the Kafka log directory timed out; see " + logFile());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new DevStackException("interrupted while formatting the Kafka log directory", e);
        }
        if (p.exitValue() != 0) {
            throw new DevStackException("formatting the Kafka log directory failed (exit " + p.exitValue() + "); see "
                    + logFile() + ":\n" + tail(logFile(), 20));
        }
        LOG.info("formatted Kafka log directory {} with cluster id {}", config.kafkaDir(), clusterId);
    }

    private List<String> javaCommand(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.add("-Xms64m");
        cmd.add("-XX:+UseG1GC");
        cmd.add("-XX:MaxGCPauseMillis=20");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-Dlogback.configurationFile=io/peftfoundry/devstack/logback-kafka.xml");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The last {@code lines} lines of a log file, for error messages. */
    static String tail(Path file, int lines) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long from = Math.max(0, length - 16 * 1024);
            raf.seek(from);
            byte[] bytes = new byte[(int) (length - from)];
            raf.readFully(bytes);
            String[] all = new String(bytes, StandardCharsets.UTF_8).split("\n");
            int start = Math.max(0, all.length - lines);
            return String.join("\n", java.util.Arrays.copyOfRange(all, start, all.length));
        } catch (IOException e) {
            return "(log not readable: " + e.getMessage() + ")";
        }
    }
}
