package io.peftfoundry.jobapi.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.jobapi.config.JobApiConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes unsent outbox rows to Kafka, in id order, keyed by job id, and marks them sent only once the broker has
 * acknowledged them. Each pass claims up to {@code foundry.outbox.batch-size} rows with {@code FOR UPDATE SKIP LOCKED}
 * (so two job-api instances never publish the same row) and holds the lock until the acks are in. A pass that finds a
 * full batch runs again at once; otherwise the relay sleeps {@code foundry.outbox.interval} or until
 * {@link #wakeUp()} (called after every insert). While Kafka is away the rows wait, and the relay retries with a
 * back-off up to 5 s. The producer is idempotent (acks=all), so a retried send does not duplicate within a session.
 * Published rows are kept for {@code foundry.outbox.retention}, then deleted by the relay in batches.
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    private static final long MAX_BACKOFF_MILLIS = 5_000;
    private static final int DELETE_BATCH = 5_000;

    private final DataSource dataSource;
    private final JobApiConfig.Outbox config;
    private final String bootstrapServers;
    private final MeterRegistry registry;
    private final Object signal = new Object();
    private final AtomicLong unsent = new AtomicLong();
    private final AtomicLong oldestUnsentMillis = new AtomicLong();
    private boolean woken;
    private volatile boolean running;
    private Thread thread;
    private KafkaProducer<String, String> producer;

    private record Row(long id, String topic, String key, String payload) {
    }

    public OutboxRelay(DataSource dataSource, JobApiConfig config,
                       @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers, MeterRegistry registry) {
        this.dataSource = dataSource;
        this.config = config.outbox();
        this.bootstrapServers = bootstrapServers;
        this.registry = registry;
    }

    void onStart(@Observes StartupEvent event) {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "job-api-outbox-relay");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        // a send must not block the relay for long when the broker is away (metadata wait)
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 3_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(10_000, config.ackTimeout().toMillis()));
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5_000);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer = new KafkaProducer<>(props);
        Gauge.builder("foundry.outbox.unsent", unsent, AtomicLong::get)
                .description("outbox rows not yet acknowledged by Kafka").register(registry);
        Gauge.builder("foundry.outbox.lag.seconds", oldestUnsentMillis, v -> v.get() / 1000.0)
                .description("age of the oldest unsent outbox row").register(registry);
        running = true;
        thread = new Thread(this::loop, "outbox-relay");
        thread.setDaemon(true);
        thread.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        running = false;
        wakeUp();
        if (thread != null) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(java.time.Duration.ofSeconds(2));
        }
    }

    /** Asks for a pass now (after an outbox insert has committed). */
    public void wakeUp() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    private void loop() {
        long backoff = 0;
        long lastLagCheck = 0;
        long lastCleanup = System.nanoTime();
        while (running) {
            try {
                if (System.nanoTime() - lastLagCheck > 1_000_000_000L) {
                    measureLag();
                    lastLagCheck = System.nanoTime();
                }
                if (System.nanoTime() - lastCleanup > config.cleanupEvery().toNanos()) {
                    lastCleanup = System.nanoTime();
                    int deleted = deletePublished(config.retention());
                    if (deleted > 0) {
                        LOG.infof("outbox relay: deleted %d rows published more than %s ago", deleted,
                                config.retention());
                    }
                }
                int published = publishBatch();
                backoff = 0;
                if (published >= config.batchSize()) {
                    continue; // more are waiting
                }
                awaitSignal(config.interval().toMillis());
            } catch (Exception e) {
                backoff = backoff == 0 ? 250 : Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
                LOG.warnf("outbox relay: %s; retrying in %d ms", e.toString(), backoff);
                sleep(backoff);
            }
        }
    }

    /** One pass: claim, publish, wait for the acks, mark the acknowledged rows sent. Returns rows claimed. */
    int publishBatch() throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                List<Row> rows = claim(c);
                if (rows.isEmpty()) {
                    c.commit();
                    return 0;
                }
                List<Future<RecordMetadata>> acks = new ArrayList<>(rows.size());
                for (Row row : rows) {
                    Future<RecordMetadata> ack = producer.send(new ProducerRecord<>(row.topic, row.key, row.payload));
                    acks.add(ack);
                    if (ack.isDone() && failed(ack)) {
                        break; // no metadata (broker away): the rest would each wait max.block.ms as well
                    }
                }
                List<Long> sent = new ArrayList<>(rows.size());
                Exception failure = null;
                long deadline = System.nanoTime() + config.ackTimeout().toNanos();
                for (int i = 0; i < acks.size(); i++) {
                    try {
                        acks.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                        sent.add(rows.get(i).id);
                    } catch (Exception e) {
                        failure = failure == null ? e : failure;
                    }
                }
                markSent(c, sent);
                c.commit();
                if (failure != null) {
                    throw new IllegalStateException((rows.size() - sent.size()) + " of " + rows.size()
                            + " outbox rows not acknowledged by Kafka (" + failure.getMessage() + ")", failure);
                }
                LOG.debugf("outbox relay: published %d rows", rows.size());
                return rows.size();
            } catch (Exception e) {
                safeRollback(c);
                throw e;
            }
        }
    }

    private static boolean failed(Future<RecordMetadata> ack) {
        try {
            ack.get();
            return false;
        } catch (Exception e) {
            return true;
        }
    }

    private List<Row> claim(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, topic, message_key, payload::text FROM outbox "
                + "WHERE published_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED")) {
            ps.setInt(1, config.batchSize());
            List<Row> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
            return rows;
        }
    }

    private static void markSent(Connection c, List<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        Array array = c.createArrayOf("bigint", ids.toArray());
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY (?)")) {
            ps.setArray(1, array);
            ps.executeUpdate();
        }
    }

    /**
     * Deletes rows published more than {@code retention} ago, at most {@value #DELETE_BATCH} per statement so a long
     * backlog does not hold one huge transaction; unsent rows are never deleted. Returns the number of rows deleted.
     */
    public int deletePublished(java.time.Duration retention) throws SQLException {
        int total = 0;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
                     + "WHERE published_at IS NOT NULL AND published_at < now() - ? * interval '1 millisecond' LIMIT ?)")) {
            ps.setLong(1, retention.toMillis());
            ps.setInt(2, DELETE_BATCH);
            int n;
            do {
                n = ps.executeUpdate();
                total += n;
            } while (n == DELETE_BATCH && running);
        }
        return total;
    }

    private void measureLag() throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*), "
                     + "COALESCE(EXTRACT(EPOCH FROM (now() - min(created_at))) * 1000, 0) "
                     + "FROM outbox WHERE published_at IS NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            unsent.set(rs.getLong(1));
            oldestUnsentMillis.set(rs.getLong(2));
        }
    }

    private void awaitSignal(long millis) throws InterruptedException {
        synchronized (signal) {
            if (!woken) {
                signal.wait(millis);
            }
            woken = false;
        }
    }

    private static void safeRollback(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; the locks went with it
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
