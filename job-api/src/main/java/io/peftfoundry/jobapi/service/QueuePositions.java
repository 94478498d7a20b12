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
import java.util.Comparator;
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
 * ahead, in claim order, take the earliest free slot in turn and hold it for their own expected duration; this job
 * starts when the next slot frees. A job's expected duration ({@link HoldTimes}) is its own
 * {@code resources.estimated_seconds} times the recent ratio of actual to estimated durations (the last 50 succeeded
 * jobs with both known: Σ actual ÷ Σ estimated, so the CPU-derived estimate is scaled to what this platform's workers
 * really take, hand-over and uploads included); a job without an estimate holds its slot for the mean duration of the
 * last 50 succeeded jobs. So a long job ahead moves the estimate by its own length, not by the mean. A held job also
 * waits for its tenant's slots: the same computation over the tenant's own running jobs, with the tenant's jobs ahead
 * of it (in the tenant's order); the later of the two. Unknown (null) when a job ahead has no estimate and no job has
 * succeeded yet.
 */
@ApplicationScoped
public class QueuePositions {

    /** 1 = the next job to be claimed; {@code heldByQuota}: its tenant's quota keeps it from being claimed now. */
    public record Estimate(int position, Instant estimatedStart, boolean heldByQuota) {
    }

    /**
     * How long a queued job will hold a worker slot once it starts, from the recent succeeded jobs: its own estimate
     * ({@code resources.estimated_seconds}) times {@code calibration} (Σ actual ÷ Σ estimated over those with both
     * known; 1 when none has both, the estimate as it is), or {@code mean} (their mean duration; null without any) when
     * it has no estimate.
     */
    record HoldTimes(double calibration, Duration mean) {

        /** From the recent succeeded jobs' actual seconds (sum of those with an estimate) and estimated seconds. */
        static HoldTimes of(Double meanSeconds, double actualWithEstimate, double estimated) {
            double calibration = estimated > 0 && actualWithEstimate > 0 ? actualWithEstimate / estimated : 1.0;
            return new HoldTimes(calibration, meanSeconds == null ? null : seconds(meanSeconds));
        }

        /** The expected duration of a job with this estimate (null or ≤ 0 = none); null when unknowable. */
        Duration of(Double estimatedSeconds) {
            if (estimatedSeconds != null && estimatedSeconds > 0) {
                return seconds(estimatedSeconds * calibration);
            }
            return mean;
        }

        private static Duration seconds(double s) {
            return Duration.ofMillis(Math.round(s * 1000));
        }
    }

    static final String ORDER = """
            WITH running AS (
                SELECT tenant_id, count(*) AS n FROM jobs WHERE status = 'running' GROUP BY tenant_id
            ), queued AS (
                SELECT id, tenant_id, created_at,
                       CASE coalesce(spec->>'priority', 'normal') WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END
                           AS priority,
                       (resources->>'estimated_seconds')::float8 AS estimated_seconds,
                       created_at - coalesce((resources->>'estimated_seconds')::float8, 0) * interval '1 second'
                           AS turn_at
                  FROM jobs WHERE status = 'queued'
            ), ranked AS (
                SELECT q.id, q.tenant_id, q.priority, q.turn_at, q.estimated_seconds,
                       row_number() OVER (PARTITION BY q.priority, q.tenant_id ORDER BY q.turn_at, q.id)
                           + coalesce(r.n, 0) AS fair_rank,
                       row_number() OVER (PARTITION BY q.tenant_id ORDER BY q.priority, q.turn_at, q.id)
                           + coalesce(r.n, 0) AS tenant_slot,
                       t.max_running_jobs AS quota
                  FROM queued q LEFT JOIN running r ON r.tenant_id = q.tenant_id
                  LEFT JOIN tenant_quotas t ON t.tenant_id = q.tenant_id
            ), positions AS (
                SELECT id, tenant_id, tenant_slot, quota, estimated_seconds,
                       (quota IS NOT NULL AND tenant_slot > quota) AS held,
                       row_number() OVER (ORDER BY (quota IS NOT NULL AND tenant_slot > quota), priority, fair_rank,
                                                   turn_at, id) AS position
                  FROM ranked
            ), me AS (
                SELECT position, tenant_id, tenant_slot FROM positions WHERE id = ?
            )
            SELECT p.id = ?, p.position, p.held, p.tenant_slot, p.quota, p.estimated_seconds, p.tenant_id = me.tenant_id
              FROM positions p, me
             WHERE p.position <= me.position OR (p.tenant_id = me.tenant_id AND p.tenant_slot <= me.tenant_slot)""";

    /** The last 50 succeeded jobs: mean duration, and Σ actual ÷ Σ estimated over those with an estimate. */
    static final String RECENT = """
            SELECT avg(actual), coalesce(sum(actual) FILTER (WHERE estimated > 0), 0),
                   coalesce(sum(estimated) FILTER (WHERE estimated > 0), 0) FROM (
                SELECT EXTRACT(EPOCH FROM finished_at - started_at)::float8 AS actual,
                       (resources->>'estimated_seconds')::float8 AS estimated FROM jobs
                 WHERE status = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL
                 ORDER BY finished_at DESC LIMIT 50) recent""";

    /** A queued job at or before the one asked about: its place in the claim order and in its tenant's order. */
    private record Ahead(int position, int tenantSlot, boolean sameTenant, Double estimatedSeconds) {
    }

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
            int position = 0;
            boolean held = false;
            int tenantSlot = 0;
            int quota = 0;
            boolean found = false;
            List<Ahead> ahead = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(ORDER)) {
                ps.setString(1, job.id());
                ps.setString(2, job.id());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getBoolean(1)) {
                            found = true;
                            position = rs.getInt(2);
                            held = rs.getBoolean(3);
                            tenantSlot = rs.getInt(4);
                            quota = rs.getInt(5);
                        } else {
                            double seconds = rs.getDouble(6);
                            Double estimated = rs.wasNull() ? null : seconds;
                            ahead.add(new Ahead(rs.getInt(2), rs.getInt(4), rs.getBoolean(7), estimated));
                        }
                    }
                }
            }
            if (!found) {
                return Optional.empty();
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
            HoldTimes holds;
            try (PreparedStatement ps = c.prepareStatement(RECENT); ResultSet rs = ps.executeQuery()) {
                rs.next();
                double mean = rs.getDouble(1);
                holds = HoldTimes.of(rs.wasNull() ? null : mean, rs.getDouble(2), rs.getDouble(3));
            }
            final int mine = position;
            final int mySlot = tenantSlot;
            List<Duration> aheadInOrder = ahead.stream().filter(a -> a.position() < mine)
                    .sorted(Comparator.comparingInt(Ahead::position))
                    .map(a -> holds.of(a.estimatedSeconds())).toList();
            Instant start = estimateStart(now, slots, aheadInOrder);
            if (held) {
                // the tenant's own slots: its running jobs free them, its jobs ahead of this one take them first
                List<Duration> tenantAhead = ahead.stream().filter(a -> a.sameTenant() && a.tenantSlot() < mySlot)
                        .sorted(Comparator.comparingInt(Ahead::tenantSlot))
                        .map(a -> holds.of(a.estimatedSeconds())).toList();
                Instant tenantStart = quota == 0 ? null : tenantStart(now, tenantSlots, quota, tenantAhead);
                start = start == null || tenantStart == null ? null : start.isAfter(tenantStart) ? start : tenantStart;
            }
            return Optional.of(new Estimate(position, start, held));
        }
    }

    /**
     * When the tenant's next job after {@code tenantAhead} (the tenant's queued jobs before it, in the tenant's order,
     * with their expected durations) gets one of the tenant's {@code quota} slots: the running jobs hold theirs until
     * they finish, the free ones are taken now by the jobs ahead, and each job ahead holds a slot for its duration.
     */
    static Instant tenantStart(Instant now, List<Instant> tenantRunning, int quota, List<Duration> tenantAhead) {
        List<Instant> slots = new ArrayList<>(tenantRunning);
        for (int i = tenantRunning.size(); i < quota; i++) {
            slots.add(now);
        }
        return estimateStart(now, slots, tenantAhead);
    }

    /**
     * When the job after {@code ahead} (the jobs before it in claim order, each with how long it will hold a slot)
     * starts, given when each worker slot frees; null if a job ahead's duration is unknown.
     */
    static Instant estimateStart(Instant now, List<Instant> slotsFree, List<Duration> ahead) {
        PriorityQueue<Instant> slots = new PriorityQueue<>(slotsFree);
        if (slots.isEmpty()) {
            // nothing runs: no worker is up yet, or one is about to claim; the first jobs start as soon as one claims
            slots.add(now);
        }
        for (Duration hold : ahead) {
            if (hold == null) {
                return null;
            }
            slots.add(slots.poll().plus(hold));
        }
        return slots.peek();
    }
}
