package io.peftfoundry.jobapi.service;

import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * Where a queued job stands: its place in the order the workers claim in (trainer-worker {@code JobQueue}: priority,
 * then fair share between tenants — rank in the tenant's queue plus the tenant's running jobs — then age), computed
 * from this service's own {@code jobs} table, and an estimated start.
 *
 * <p>The estimate: while any job is queued every worker is busy (a free worker claims within a second), so the running
 * jobs are the worker slots. Each slot frees at its job's {@code estimated_finish} (now if unknown or past); the jobs
 * ahead take the earliest free slot in turn and hold it for the mean duration of the last 50 succeeded jobs; this job
 * starts when the next slot frees. Unknown (null) when jobs are ahead and no job has succeeded yet.
 */
@ApplicationScoped
public class QueuePositions {

    /** 1 = the next job to be claimed. */
    public record Estimate(int position, Instant estimatedStart) {
    }

    static final String ORDER = """
            WITH running AS (
                SELECT tenant_id, count(*) AS n FROM jobs WHERE status = 'running' GROUP BY tenant_id
            ), queued AS (
                SELECT id, tenant_id, created_at,
                       CASE coalesce(spec->>'priority', 'normal') WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END
                           AS priority
                  FROM jobs WHERE status = 'queued'
            ), ranked AS (
                SELECT q.id, q.priority, q.created_at,
                       row_number() OVER (PARTITION BY q.priority, q.tenant_id ORDER BY q.created_at, q.id)
                           + coalesce(r.n, 0) AS fair_rank
                  FROM queued q LEFT JOIN running r ON r.tenant_id = q.tenant_id
            ), positions AS (
                SELECT id, row_number() OVER (ORDER BY priority, fair_rank, created_at, id) AS position FROM ranked
            )
            SELECT position FROM positions WHERE id = ?""";

    private final DataSource dataSource;

    public QueuePositions(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Empty unless the job is queued. */
    public Optional<Estimate> of(JobRow job) throws SQLException {
        if (!"queued".equals(job.status())) {
            return Optional.empty();
        }
        try (Connection c = dataSource.getConnection()) {
            int position;
            try (PreparedStatement ps = c.prepareStatement(ORDER)) {
                ps.setString(1, job.id());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    position = rs.getInt(1);
                }
            }
            Instant now = Instant.now();
            List<Instant> slots = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT estimated_finish FROM jobs WHERE status = 'running'");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp t = rs.getTimestamp(1);
                    slots.add(t == null || t.toInstant().isBefore(now) ? now : t.toInstant());
                }
            }
            Duration typical = null;
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT avg(EXTRACT(EPOCH FROM finished_at - started_at)) FROM (
                        SELECT finished_at, started_at FROM jobs
                         WHERE status = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL
                         ORDER BY finished_at DESC LIMIT 50) recent""");
                 ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getObject(1) != null) {
                    typical = Duration.ofMillis(Math.round(rs.getDouble(1) * 1000));
                }
            }
            return Optional.of(new Estimate(position, estimateStart(now, slots, position - 1, typical)));
        }
    }

    /** When the job after {@code ahead} others starts, given when each worker slot frees; null if unknowable. */
    static Instant estimateStart(Instant now, List<Instant> slotsFree, int ahead, Duration typical) {
        PriorityQueue<Instant> slots = new PriorityQueue<>(slotsFree);
        if (slots.isEmpty()) {
            // nothing runs: no worker is up yet, or one is about to claim; the first jobs start as soon as one claims
            slots.add(now);
        }
        if (ahead > 0 && typical == null) {
            return null;
        }
        for (int i = 0; i < ahead; i++) {
            slots.add(slots.poll().plus(typical));
        }
        return slots.peek();
    }
}
