package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Publishes {@code worker.event_outbox} (the events that end runs, see {@link io.peftfoundry.worker.queue.RunEndings})
 * to {@link Topics#JOBS_EVENTS}: right after a run ends ({@link #kick}) and every second, until the broker acknowledged
 * each. Rows are locked with {@code SKIP LOCKED} until the broker has acknowledged or the producer has given up (also
 * while the broker is away, see {@link #SEND_WAIT_SECONDS}), so several workers relay without sending a row twice;
 * a row sent but not marked (a crash between) goes out again with the same seq, which job-api ignores.
 */
@ApplicationScoped
public class EventOutboxRelay {

    private static final Logger LOG = Logger.getLogger(EventOutboxRelay.class);
    private static final int BATCH = 50;

    private final DataSource dataSource;
    private final JobEventPublisher publisher;
    private final ObjectMapper mapper = ContractsJson.newMapper();
    private final Map<Long, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    private final ScheduledExecutorService relay = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "event-outbox-relay");
        t.setDaemon(true);
        return t;
    });

    public EventOutboxRelay(DataSource dataSource, JobEventPublisher publisher) {
        this.dataSource = dataSource;
        this.publisher = publisher;
    }

    void onStart(@Observes StartupEvent ev) {
        relay.scheduleWithFixedDelay(this::publishQuietly, 1, 1, TimeUnit.SECONDS);
    }

    void onStop(@Observes ShutdownEvent ev) {
        relay.shutdown();
    }

    /** Publish now (a run just ended) instead of at the next tick. */
    public void kick() {
        relay.execute(this::publishQuietly);
    }

    private void publishQuietly() {
        try {
            publishPending();
        } catch (Exception e) {
            LOG.warnf("event outbox: %s (retried in a second)", e.getMessage());
        }
    }

    /**
     * How long a send is waited on with its row locked: beyond the producer's {@code delivery.timeout.ms} (120 s by
     * default), so the send has succeeded or failed by then. Holding the lock that long is the point: while one worker's
     * producer still holds the event (the broker is away), no other worker's relay may take the row and buffer a second
     * copy — both would be delivered when the broker is back, two records of one event on the topic.
     */
    static final long SEND_WAIT_SECONDS = 150;

    private static void awaitBroker(CompletableFuture<Void> sending, JobEvent event) throws Exception {
        try {
            sending.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException slow) {
            LOG.warnf("job %s: event seq %d not acknowledged yet (broker away?); waiting up to %d s with its outbox row"
                    + " locked", event.jobId(), event.seq(), SEND_WAIT_SECONDS);
            sending.get(SEND_WAIT_SECONDS - 10, TimeUnit.SECONDS);
        }
    }

    /** Publishes what is pending, oldest first; stops at the first failure (order per job is kept). */
    public int publishPending() throws SQLException {
        int sent = 0;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement select = c.prepareStatement("""
                        SELECT id, payload FROM event_outbox WHERE published_at IS NULL
                         ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED""");
                     PreparedStatement done = c.prepareStatement(
                             "UPDATE event_outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ?");
                     PreparedStatement failed = c.prepareStatement(
                             "UPDATE event_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?")) {
                    select.setInt(1, BATCH);
                    try (ResultSet rs = select.executeQuery()) {
                        while (rs.next()) {
                            long id = rs.getLong(1);
                            try {
                                JobEvent event = mapper.readValue(rs.getString(2), JobEvent.class);
                                // a send still under way (broker away) is waited on again, not sent a second time
                                CompletableFuture<Void> sending = inFlight.computeIfAbsent(id,
                                        k -> publisher.publish(event).toCompletableFuture());
                                try {
                                    awaitBroker(sending, event);
                                } catch (TimeoutException stillSending) {
                                    LOG.warnf("job %s: event seq %d not acknowledged after %d s", event.jobId(),
                                            event.seq(), SEND_WAIT_SECONDS);
                                    break;
                                } finally {
                                    if (sending.isDone()) {
                                        inFlight.remove(id);
                                    }
                                }
                                done.setLong(1, id);
                                done.executeUpdate();
                                sent++;
                                LOG.infof("job %s: %s event (seq %d) published", event.jobId(),
                                        event.status() == null ? event.type().wire() : event.status().wire(),
                                        event.seq());
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                break;
                            } catch (Exception e) {
                                failed.setString(1, String.valueOf(e.getMessage()));
                                failed.setLong(2, id);
                                failed.executeUpdate();
                                LOG.warnf("event outbox row %d not published yet: %s", id, e.getMessage());
                                break;
                            }
                        }
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
        return sent;
    }
}
