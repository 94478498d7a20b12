package io.peftfoundry.worker.lease;

import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * {@code worker.job_cancellations}: every job a cancel was sent for. A cancelled job is never started afterwards (a
 * cancel is final: job-api neither resumes nor re-queues a cancelled job).
 */
@ApplicationScoped
public class CancellationRepository {

    private final DataSource dataSource;

    public CancellationRepository(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Records a cancel (idempotent: the first record stays). */
    public void record(String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO job_cancellations (job_id) VALUES (?) ON CONFLICT (job_id) DO NOTHING")) {
            ps.setString(1, jobId);
            ps.executeUpdate();
        }
    }

    public boolean isCancelled(String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM job_cancellations WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
