package io.peftfoundry.worker.queue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobStatus;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * How a run ends, as one transaction: the outcome (terminal runs), the status event into {@code event_outbox}, the
 * job's queue state and the lease release. After the commit the ending is known <em>and</em> will be published: the
 * {@link io.peftfoundry.worker.messaging.EventOutboxRelay} sends the event now and again until the broker acknowledges
 * it, so Kafka being down delays the event but never turns a finished job into a failed attempt.
 */
@ApplicationScoped
public class RunEndings {

    /** The terminal result to record in {@code job_outcomes}. */
    public record Outcome(JobStatus status, int attempt, String adapterId, String error) {
    }

    private static final Logger LOG = Logger.getLogger(RunEndings.class);
    private static final int RECORD_ATTEMPTS = 30;

    private final DataSource dataSource;
    private final ObjectMapper mapper = ContractsJson.newMapper();

    public RunEndings(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** A terminal run (succeeded, failed, cancelled): the job leaves the queue for good. */
    public void terminal(String workerId, Outcome outcome, JobEvent event) throws SQLException {
        end(event.jobId(), workerId, "done", outcome, event);
    }

    /** A paused run: the job leaves the queue until its resume request queues it again. */
    public void paused(String workerId, JobEvent event) throws SQLException {
        end(event.jobId(), workerId, "paused", null, event);
    }

    /** A claimed job whose outcome was already recorded (an older run ended it): it leaves the queue, lease released. */
    public void alreadyEnded(String jobId, String workerId) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_queue SET state = 'done' WHERE job_id = ?")) {
                ps.setString(1, jobId);
                ps.executeUpdate();
            }
            release(c, jobId, workerId);
        }
    }

    /** Retries while PostgreSQL is away (up to about a minute): the run is done, only its recording waits. */
    private void end(String jobId, String workerId, String state, Outcome outcome, JobEvent event)
            throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                endOnce(jobId, workerId, state, outcome, event);
                return;
            } catch (SQLException e) {
                if (attempt >= RECORD_ATTEMPTS) {
                    throw e;
                }
                LOG.warnf("job %s: recording its end failed (%s); retrying in 2 s", jobId, e.getMessage());
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private void endOnce(String jobId, String workerId, String state, Outcome outcome, JobEvent event)
            throws SQLException {
        String payload;
        try {
            payload = mapper.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("event of " + jobId + " cannot be written as JSON", e);
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (outcome != null) {
                    try (PreparedStatement ps = c.prepareStatement("""
                            INSERT INTO job_outcomes (job_id, status, attempt, worker_id, adapter_id, error)
                            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING""")) {
                        ps.setString(1, jobId);
                        ps.setString(2, outcome.status().wire());
                        ps.setInt(3, outcome.attempt());
                        ps.setString(4, workerId);
                        ps.setString(5, outcome.adapterId());
                        ps.setString(6, outcome.error());
                        if (ps.executeUpdate() == 0) {
                            // another run recorded the job's end first: it published that one; ours is not the truth
                            c.rollback();
                            releaseAlone(jobId, workerId);
                            return;
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO event_outbox (job_id, payload) VALUES (?, ?)")) {
                    ps.setString(1, jobId);
                    ps.setString(2, payload);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE job_queue SET state = ? WHERE job_id = ?")) {
                    ps.setString(1, state);
                    ps.setString(2, jobId);
                    ps.executeUpdate();
                }
                release(c, jobId, workerId);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private void releaseAlone(String jobId, String workerId) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            release(c, jobId, workerId);
        }
    }

    private static void release(Connection c, String jobId, String workerId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE job_leases SET released_at = now(), expires_at = now()
                 WHERE job_id = ? AND worker_id = ?""")) {
            ps.setString(1, jobId);
            ps.setString(2, workerId);
            ps.executeUpdate();
        }
    }
}
