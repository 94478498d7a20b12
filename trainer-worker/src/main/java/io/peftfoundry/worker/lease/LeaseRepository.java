package io.peftfoundry.worker.lease;

import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code worker.job_leases}: which worker trains which job. A lease is taken with one atomic upsert that only succeeds
 * when there is no row, the row expired, or this worker already holds it; so two workers never train one job.
 */
@ApplicationScoped
public class LeaseRepository {

    /** The lease row as it was before this worker took it (empty when the job never had one). */
    public record Previous(String workerId, int attempt, boolean released, int failures) {
    }

    /** A taken lease; {@code previous} says who ran the job before. */
    public record Taken(Previous previous) {
    }

    private final DataSource dataSource;

    public LeaseRepository(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Takes the lease of {@code jobId} for {@code attempt} if it is free, expired or already ours; empty when another
     * worker holds a live lease.
     */
    public Optional<Taken> tryAcquire(String jobId, String workerId, int attempt, Duration ttl) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return tryAcquire(c, jobId, workerId, attempt, ttl);
        }
    }

    /** {@link #tryAcquire(String, String, int, Duration)} on the caller's connection (inside its transaction). */
    public Optional<Taken> tryAcquire(Connection c, String jobId, String workerId, int attempt, Duration ttl)
            throws SQLException {
        // the CTE reads the row before the upsert; the upsert's WHERE decides atomically whether we may take it
        String sql = """
                WITH prev AS (SELECT worker_id, attempt, released_at IS NOT NULL AS released, failures
                              FROM job_leases WHERE job_id = ?)
                INSERT INTO job_leases AS l (job_id, worker_id, attempt, acquired_at, renewed_at, expires_at,
                                             released_at, failures)
                VALUES (?, ?, ?, now(), now(), now() + make_interval(secs => ?), NULL, 0)
                ON CONFLICT (job_id) DO UPDATE
                   SET worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt, acquired_at = now(),
                       renewed_at = now(), expires_at = EXCLUDED.expires_at, released_at = NULL
                 WHERE l.expires_at < now() OR l.released_at IS NOT NULL OR l.worker_id = EXCLUDED.worker_id
                RETURNING (SELECT worker_id FROM prev), (SELECT attempt FROM prev), (SELECT released FROM prev),
                          (SELECT failures FROM prev)
                """;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, jobId);
            ps.setString(2, jobId);
            ps.setString(3, workerId);
            ps.setInt(4, attempt);
            ps.setDouble(5, ttl.toMillis() / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String prevWorker = rs.getString(1);
                Previous previous = prevWorker == null ? null
                        : new Previous(prevWorker, rs.getInt(2), rs.getBoolean(3), rs.getInt(4));
                return Optional.of(new Taken(previous));
            }
        }
    }

    /** Sets the attempt the lease is held for and the failure count (after the takeover decided them). */
    public void update(String jobId, String workerId, int attempt, int failures) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "UPDATE job_leases SET attempt = ?, failures = ? WHERE job_id = ? AND worker_id = ?")) {
            ps.setInt(1, attempt);
            ps.setInt(2, failures);
            ps.setString(3, jobId);
            ps.setString(4, workerId);
            ps.executeUpdate();
        }
    }

    /** Extends our lease; false when it is no longer ours (it expired and another worker took it). */
    public boolean renew(String jobId, String workerId, Duration ttl) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     UPDATE job_leases SET renewed_at = now(), expires_at = now() + make_interval(secs => ?)
                      WHERE job_id = ? AND worker_id = ? AND released_at IS NULL""")) {
            ps.setDouble(1, ttl.toMillis() / 1000.0);
            ps.setString(2, jobId);
            ps.setString(3, workerId);
            return ps.executeUpdate() == 1;
        }
    }

    /** Gives the lease up (the row stays, marked released, so the next run knows this one ended cleanly). */
    public void release(String jobId, String workerId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     UPDATE job_leases SET released_at = now(), expires_at = now()
                      WHERE job_id = ? AND worker_id = ?""")) {
            ps.setString(1, jobId);
            ps.setString(2, workerId);
            ps.executeUpdate();
        }
    }
}
