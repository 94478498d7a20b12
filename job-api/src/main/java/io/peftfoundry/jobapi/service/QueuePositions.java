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
 * then fair share between tenants — rank in the tenant's queue plus the tenant's running jobs — then turn time),
 * computed from this service's own {@code jobs} table, and an estimated start. Turn time = creation time − the job's
 * estimated training seconds ({@code jobs.resources.estimated_seconds}, 0 when unknown): a tenant's jobs of one
 * priority are taken longest first among those submitted together, as the workers do.
 *
 * <p>Quotas ({@code tenant_quotas}, as an admin set them): of a tenant's queued jobs only the first
 * {@code max_running_jobs − running} (in the tenant's own order: priority, then turn time) can be claimed now; the others are
 * <em>held</em> by the quota and stand after every job that can be claimed, since none of them starts before one of
 * the tenant's running jobs ends.
 *
 * <p>The estimate: while any job is queued every worker is busy (a free worker claims within a second), so the running
 * jobs are the worker slots. Each slot frees at its job's {@code estimated_finish} (now if unknown or past); the jobs
 * ahead take the earliest free slot in turn and hold it for the mean duration of the last 50 succeeded jobs; this job
 * starts when the next slot frees. A held job also waits for its tenant's slots: the same computation over the tenant's
 * own running jobs, with the tenant's held jobs ahead of it; the later of the two. Unknown (null) when jobs are ahead
 * and no job has succeeded yet.
 */
@ApplicationScoped
public class QueuePositions {

    /** 1 = the next job to be claimed; {@code heldByQuota}: its tenant's quota keeps it from being claimed now. */
    public record Estimate(int position, Instant estimatedStart, boolean heldByQuota) {
    }

    static final String ORDER = """
            WITH running AS (
                SELECT tenant_id, count(*) AS n FROM jobs WHERE status = 'running' GROUP BY tenant_id
            ), queued AS (
                SELECT id, tenant_id, created_at,
                       CASE coalesce(spec->>'priority', 'normal') WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END
                           AS priority,
                       created_at - coalesce((resources->>'estimated_seconds')::float8, 0) * interval '1 second'
                           AS turn_at
                  FROM jobs WHERE status = 'queued'
            ), ranked AS (
                SELECT q.id, q.priority, q.turn_at,
                       row_number() OVER (PARTITION BY q.priority, q.tenant_id ORDER BY q.turn_at, q.id)
                           + coalesce(r.n, 0) AS fair_rank,
                       row_number() OVER (PARTITION BY q.tenant_id ORDER BY q.priority, q.turn_at, q.id)
                           + coalesce(r.n, 0) AS tenant_slot,
                       t.max_running_jobs AS quota
                  FROM queued q LEFT JOIN running r ON r.tenant_id = q.tenant_id
                  LEFT JOIN tenant_quotas t ON t.tenant_id = q.tenant_id
            ), positions AS (
                SELECT id, tenant_slot, quota, (quota IS NOT NULL AND tenant_slot > quota) AS held,
                       row_number() OVER (ORDER BY (quota IS NOT NULL AND tenant_slot > quota), priority, fair_rank,
                                                   turn_at, id) AS position
                  FROM ranked
            )
            SELECT position, held, tenant_slot, quota FROM positions WHERE id = ?""";

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
            boolean held;
            int tenantSlot;
            int quota;
            try (PreparedStatement ps = c.prepareStatement(ORDER)) {
                ps.setString(1, job.id());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    position = rs.getInt(1);
                    held = rs.getBoolean(2);
                    tenantSlot = rs.getInt(3);
                    quota = rs.getInt(4);
                }
            }
            Instant now = Instant.now();
            List<Instant> slots = new ArrayList<>();
            List<Instant> tenantSlots = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT estimated_finish, tenant_id = ? FROM jobs WHERE status = 'running'")) {
                ps.setString(1, job.tenant());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Timestamp t = rs.getTimestamp(1);
                        Instant free = t == null || t.toInstant().isBefore(now) ? now : t.toInstant();
                        slots.add(free);
                        if (rs.getBoolean(2)) {
                            tenantSlots.add(free);
                        }
                    }
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
            Instant start = estimateStart(now, slots, position - 1, typical);
            if (held) {
                // the tenant's own slots: its running jobs free them, its held jobs ahead of this one take them first
                Instant tenantStart = quota == 0 ? null : tenantStart(now, tenantSlots, quota, tenantSlot, typical);
                start = start == null || tenantStart == null ? null : start.isAfter(tenantStart) ? start : tenantStart;
            }
            return Optional.of(new Estimate(position, start, held));
        }
    }

    /**
     * When the tenant's job in {@code tenantSlot} (its place in the tenant's own order plus the tenant's running jobs)
     * gets one of the tenant's {@code quota} slots: the running jobs hold theirs until they finish, the free ones are
     * taken now by the tenant's jobs ahead, and each job ahead then holds a slot for the typical duration.
     */
    static Instant tenantStart(Instant now, List<Instant> tenantRunning, int quota, int tenantSlot, Duration typical) {
        List<Instant> slots = new ArrayList<>(tenantRunning);
        for (int i = tenantRunning.size(); i < quota; i++) {
            slots.add(now);
        }
        return estimateStart(now, slots, tenantSlot - tenantRunning.size() - 1, typical);
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
