package io.peftfoundry.worker.lease;

import io.peftfoundry.contracts.event.JobStatus;
import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** {@code worker.job_outcomes}: the terminal result of each job, so a redelivered request is skipped, not retrained. */
@ApplicationScoped
public class OutcomeRepository {

    private final DataSource dataSource;

    public OutcomeRepository(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public Optional<JobStatus> terminalStatus(String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT status FROM job_outcomes WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(JobStatus.fromWire(rs.getString(1))) : Optional.empty();
            }
        }
    }

    /** Records the terminal status (the first one recorded wins). */
    public void record(String jobId, JobStatus status, int attempt, String workerId, String adapterId, String error)
            throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO job_outcomes (job_id, status, attempt, worker_id, adapter_id, error)
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING""")) {
            ps.setString(1, jobId);
            ps.setString(2, status.wire());
            ps.setInt(3, attempt);
            ps.setString(4, workerId);
            ps.setString(5, adapterId);
            ps.setString(6, error);
            ps.executeUpdate();
        }
    }
}
