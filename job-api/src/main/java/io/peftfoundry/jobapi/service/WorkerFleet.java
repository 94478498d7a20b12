package io.peftfoundry.jobapi.service;

import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.jobapi.config.JobApiConfig;
import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The trainer workers as they advertise themselves ({@link WorkerCapabilities} on {@code foundry.workers}), kept in
 * {@code jobs.workers}: the newest message per worker. The fleet that counts at submit is the workers that are
 * {@code up} and were heard from within {@code foundry.scheduling.worker-seen-within}.
 */
@ApplicationScoped
public class WorkerFleet {

    private final DataSource dataSource;
    private final JobApiConfig config;

    public WorkerFleet(DataSource dataSource, JobApiConfig config) {
        this.dataSource = dataSource;
        this.config = config;
    }

    /** Records a worker's message unless a newer one of that worker is already recorded. */
    public void record(WorkerCapabilities w) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO workers AS w (worker_id, device, memory_bytes, families, state, advertised_at)
                     VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT (worker_id) DO UPDATE
                        SET device = EXCLUDED.device, memory_bytes = EXCLUDED.memory_bytes,
                            families = EXCLUDED.families, state = EXCLUDED.state,
                            advertised_at = EXCLUDED.advertised_at, seen_at = now()
                      WHERE w.advertised_at <= EXCLUDED.advertised_at""")) {
            ps.setString(1, w.workerId());
            ps.setString(2, w.device());
            ps.setLong(3, w.memoryBytes());
            ps.setArray(4, c.createArrayOf("text", w.families().toArray()));
            ps.setString(5, w.state());
            ps.setTimestamp(6, Timestamp.from(w.at()));
            ps.executeUpdate();
        }
    }

    /** The workers up and heard from recently (largest memory first); empty when none has advertised itself. */
    public List<WorkerCapabilities> live() throws SQLException {
        List<WorkerCapabilities> live = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT worker_id, device, memory_bytes, families, state, advertised_at FROM workers
                      WHERE state = 'up' AND seen_at > now() - ?::interval
                      ORDER BY memory_bytes DESC, worker_id""")) {
            ps.setString(1, config.scheduling().workerSeenWithin().toMillis() + " milliseconds");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Array families = rs.getArray(4);
                    live.add(new WorkerCapabilities(rs.getString(1), rs.getString(2), rs.getLong(3),
                            Arrays.asList((String[]) families.getArray()), rs.getString(5),
                            rs.getTimestamp(6).toInstant()));
                }
            }
        }
        return live;
    }
}
