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
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes unsent outbox rows to Kafka, keyed by job id, in id order per job, and marks them sent only once the broker
 * has acknowledged them. Each pass claims up to {@code foundry.outbox.batch-size} rows, the oldest unsent row of each
 * key, with {@code FOR UPDATE SKIP LOCKED} (so two job-api instances never publish the same row, and a job's later row
 * never overtakes its earlier one) and holds the lock until the acks are in. A row Kafka refuses (too large, a bad
 * topic) is retried with back-off (1 s doubling to 10 min, {@code next_attempt_at}, {@code last_error}) and holds up
 * only the later rows of its own job; every other job's rows go on. A pass that finds a
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

    private record Row(long id, String topic, String key, String payload, int attempts) {
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

    /**
     * One pass: claim, publish, wait for the acks, mark the acknowledged rows sent and the refused ones for a later
     * attempt. Returns rows claimed.
     */
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
                boolean brokerAway = false;
                for (Row row : rows) {
                    if (brokerAway) {
                        acks.add(null); // no metadata: each further send would wait max.block.ms as well
                        continue;
                    }
                    Future<RecordMetadata> ack = send(row);
                    acks.add(ack);
                    brokerAway = ack.isDone() && failure(ack) instanceof RetriableException;
                }
                List<Long> sent = new ArrayList<>(rows.size());
                List<Row> refused = new ArrayList<>();
                List<String> refusals = new ArrayList<>();
                Throwable transientFailure = null;
                long deadline = System.nanoTime() + config.ackTimeout().toNanos();
                for (int i = 0; i < acks.size(); i++) {
                    if (acks.get(i) == null) {
                        continue;
                    }
                    try {
                        acks.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                        sent.add(rows.get(i).id);
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof RetriableException) {
                            transientFailure = transientFailure == null ? e.getCause() : transientFailure;
                        } else {
                            refused.add(rows.get(i));
                            refusals.add(String.valueOf(e.getCause()));
                        }
                    } catch (java.util.concurrent.TimeoutException e) {
                        transientFailure = transientFailure == null ? e : transientFailure;
                    }
                }
                markSent(c, sent);
                markRefused(c, refused, refusals);
                c.commit();
                for (int i = 0; i < refused.size(); i++) {
                    Row row = refused.get(i);
                    registry.counter("foundry.outbox.refused").increment();
                    LOG.errorf("outbox relay: Kafka refused row %d (key %s, topic %s, attempt %d): %s; retried in %d s,"
                            + " later rows of %s wait, other keys go on", row.id, row.key, row.topic, row.attempts + 1,
                            refusals.get(i), backoffSeconds(row.attempts + 1), row.key);
                }
                if (transientFailure != null) {
                    throw new IllegalStateException((rows.size() - sent.size() - refused.size()) + " of " + rows.size()
                            + " outbox rows not acknowledged by Kafka (" + transientFailure.getMessage() + ")",
                            transientFailure);
                }
                LOG.debugf("outbox relay: published %d rows", sent.size());
                return rows.size();
            } catch (Exception e) {
                safeRollback(c);
                throw e;
            }
        }
    }

    private Future<RecordMetadata> send(Row row) {
        try {
            return producer.send(new ProducerRecord<>(row.topic, row.key, row.payload));
        } catch (KafkaException e) {
            // the producer refused the record before queueing it
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Throwable failure(Future<RecordMetadata> ack) {
        try {
            ack.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
    }

    /** Seconds until a row Kafka refused {@code attempts} times is tried again: 1, 2, 4 … up to 10 minutes. */
    public static long backoffSeconds(int attempts) {
        return Math.min(600, 1L << Math.min(20, Math.max(0, attempts - 1)));
    }

    /**
     * The claim: the oldest unsent row of each key (a job's rows go out in order: a later one waits until the earlier
     * is sent), skipping rows waiting out a back-off after Kafka refused them, so a row that cannot be published holds
     * up only its own job. One parameter: the batch size.
     */
    static final String CLAIM = "SELECT o.id, o.topic, o.message_key, o.payload::text, o.attempts "
            + "FROM outbox o WHERE o.published_at IS NULL "
            + "AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= now()) "
            + "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.message_key = o.message_key "
            + "AND e.published_at IS NULL AND e.id < o.id) "
            + "ORDER BY o.id LIMIT ? FOR UPDATE OF o SKIP LOCKED";

    /**
     * Keeps the claim's plan linear in the backlog: no nested loop for this transaction. The outbox goes from empty to
     * thousands of unsent rows within seconds (a burst of submissions) while its statistics still say "nothing unsent";
     * PostgreSQL then plans the anti-join as a nested loop that rescans every unsent row for each candidate, and each
     * claim costs the square of the backlog (bench/job-pipeline: claims of 7 to over 30 s, publishing stalled until
     * autovacuum re-analysed the table; 20,000 unsent rows: 330 ms per claim, 16 ms with the hash anti-join this
     * forces). Within a transaction only ({@code SET LOCAL}).
     */
    static void planClaimWithoutNestedLoops(Connection c) throws SQLException {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("SET LOCAL enable_nestloop = off");
        }
    }

    private List<Row> claim(Connection c) throws SQLException {
        planClaimWithoutNestedLoops(c);
        try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
            ps.setInt(1, config.batchSize());
            List<Row> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5)));
                }
            }
            return rows;
        }
    }

    private static void markRefused(Connection c, List<Row> rows, List<String> reasons) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                + "next_attempt_at = now() + ? * interval '1 second' WHERE id = ?")) {
            for (int i = 0; i < rows.size(); i++) {
                ps.setString(1, reasons.get(i));
                ps.setLong(2, backoffSeconds(rows.get(i).attempts + 1));
                ps.setLong(3, rows.get(i).id);
                ps.addBatch();
            }
            ps.executeBatch();
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
