package io.peftfoundry.worker.queue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.resources.JobResources;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.Priority;
import io.peftfoundry.worker.lease.LeaseRepository;
import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * {@code worker.job_queue}: the jobs every worker claims from. Requests come in from Kafka ({@link #enqueue}); an idle
 * worker {@link #claim}s the best one — highest priority first, then fair share between tenants, within each tenant's
 * concurrency quota — with {@code FOR UPDATE SKIP LOCKED}, and takes the job's lease in the same transaction. So no job
 * waits behind a busy worker, and two workers never claim one job.
 */
@ApplicationScoped
public class JobQueue {

    /** What {@link #enqueue} did with a request. */
    public enum Enqueued {
        /** A new job, now queued. */
        QUEUED,
        /** A newer request of a known job (a resume after pause): queued again with it. */
        REQUEUED,
        /** The same or an older request of a job already here (a redelivery): nothing changed. */
        UNCHANGED,
        /** The job already has a terminal outcome: never queued again. */
        ALREADY_FINISHED
    }

    /**
     * What the claiming worker can hold: jobs whose estimated memory exceeds {@code memoryBytes} or whose model family
     * is not in {@code families} are skipped (left for a worker that can hold them). {@link #ANY} skips nothing.
     */
    public record Capacity(long memoryBytes, List<String> families) {
        public static final Capacity ANY = new Capacity(Long.MAX_VALUE, null);
    }

    /** A claimed job: its newest request and who held its lease before (null when nobody did). */
    public record Claim(JobRequested request, LeaseRepository.Previous previous) {
    }

    /**
     * The claim order, as one query over the queued jobs nobody holds a live lease on:
     * <ol>
     *   <li>priority (high, normal, low);</li>
     *   <li>fair share: a job's rank within its tenant's queue at that priority plus the tenant's running jobs, so a
     *       tenant with 20 queued jobs and one with 1 take turns, and a tenant already running more waits longer;</li>
     *   <li>then the tenant served least recently, then the turn time.</li>
     * </ol>
     * A tenant's own queue at one priority is ranked by <em>turn time</em> = enqueue time − the job's estimated
     * training seconds ({@code JobRequested.resources.estimated_seconds}, 0 when unknown): longest first among jobs
     * queued together, so a long job is not left to start last while the other workers run dry; a job is overtaken
     * only by a later one of its own tenant expected to train longer by more than the time between their submissions,
     * so no job waits behind an endless stream of longer ones. Fair share between tenants is untouched: the order
     * picks which of a tenant's jobs runs in the tenant's turn, not whose turn it is.
     * Jobs of a tenant at its quota ({@code tenant_quotas.max_running} live leases) are left out.
     */
    static final String RANKED = """
            WITH live AS (
                SELECT job_id FROM job_leases WHERE released_at IS NULL AND expires_at > now()
            ), running AS (
                SELECT q.tenant, count(*) AS n FROM job_queue q JOIN live l ON l.job_id = q.job_id
                 WHERE q.state = 'queued' GROUP BY q.tenant
            ), served AS (
                SELECT tenant, max(claimed_at) AS last_claim FROM job_queue
                 WHERE claimed_at IS NOT NULL GROUP BY tenant
            ), ranked AS (
                SELECT q.job_id, q.tenant, q.priority, q.enqueued_at, q.claimed_at, s.last_claim,
                       q.enqueued_at - coalesce(q.estimated_seconds, 0) * interval '1 second' AS turn_at,
                       row_number() OVER (PARTITION BY q.priority, q.tenant
                                          ORDER BY q.enqueued_at - coalesce(q.estimated_seconds, 0) * interval '1 second',
                                                   q.job_id)
                           + coalesce(r.n, 0) AS fair_rank
                  FROM job_queue q
                  LEFT JOIN running r ON r.tenant = q.tenant
                  LEFT JOIN served s ON s.tenant = q.tenant
                  LEFT JOIN tenant_quotas t ON t.tenant = q.tenant
                 WHERE q.state = 'queued'
                   AND NOT EXISTS (SELECT 1 FROM live l WHERE l.job_id = q.job_id)
                   AND (t.max_running IS NULL OR coalesce(r.n, 0) < t.max_running)
            )
            """;
    static final String ORDER = " ORDER BY k.priority, k.fair_rank, k.last_claim NULLS FIRST, k.turn_at, k.job_id";

    /** Claim attempts in one {@link #claim} call (tenants found at their quota, jobs leased meanwhile): a bound. */
    private static final int MAX_ROUNDS = 64;

    private final DataSource dataSource;
    private final LeaseRepository leases;
    private final ObjectMapper mapper = ContractsJson.newMapper();

    public JobQueue(DataSource dataSource, LeaseRepository leases) {
        this.dataSource = dataSource;
        this.leases = leases;
    }

    /**
     * Queues a request (idempotent: a redelivered request changes nothing). A job with a terminal outcome is never
     * queued again; a paused job is queued again by its resume request, which carries a higher attempt.
     */
    public Enqueued enqueue(JobRequested request) throws SQLException {
        String json;
        try {
            json = mapper.writeValueAsString(request);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("job request of " + request.jobId() + " cannot be written as JSON", e);
        }
        Priority priority = request.spec().priority() != null ? request.spec().priority() : JobSpec.DEFAULT_PRIORITY;
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM job_outcomes WHERE job_id = ?")) {
                ps.setString(1, request.jobId());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return Enqueued.ALREADY_FINISHED;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO job_queue AS q (job_id, tenant, priority, request, request_attempt, state, memory_bytes,
                                                family, estimated_seconds)
                    VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)
                    ON CONFLICT (job_id) DO UPDATE
                       SET request = EXCLUDED.request, request_attempt = EXCLUDED.request_attempt,
                           priority = EXCLUDED.priority, state = 'queued', enqueued_at = now(),
                           memory_bytes = EXCLUDED.memory_bytes, family = EXCLUDED.family,
                           estimated_seconds = EXCLUDED.estimated_seconds
                     WHERE q.request_attempt < EXCLUDED.request_attempt AND q.state <> 'done'
                    RETURNING (xmax = 0)""")) {
                ps.setString(1, request.jobId());
                ps.setString(2, request.tenant() == null ? "" : request.tenant());
                ps.setInt(3, priority.rank());
                ps.setString(4, json);
                ps.setInt(5, request.attempt());
                JobResources resources = request.resources();
                ps.setObject(6, resources == null ? null : resources.memoryBytes(), java.sql.Types.BIGINT);
                ps.setString(7, resources == null ? null : resources.family());
                ps.setObject(8, resources == null ? null : resources.estimatedSeconds(), java.sql.Types.DOUBLE);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Enqueued.UNCHANGED;
                    }
                    return rs.getBoolean(1) ? Enqueued.QUEUED : Enqueued.REQUEUED;
                }
            }
        }
    }

    /**
     * Claims the best queued job for {@code workerId} and takes its lease (TTL {@code ttl}) in one transaction; empty
     * when nothing is claimable (queue empty, every queued job leased, or every tenant with work at its quota).
     */
    public Optional<Claim> claim(String workerId, Duration ttl) throws SQLException {
        return claim(workerId, ttl, Capacity.ANY);
    }

    /**
     * As {@link #claim(String, Duration)}, skipping the jobs a worker of {@code capacity} cannot hold: the best job it
     * can hold is claimed, the others stay queued for a larger worker (or one that loads their family).
     */
    public Optional<Claim> claim(String workerId, Duration ttl, Capacity capacity) throws SQLException {
        Set<String> tenantsAtQuota = new HashSet<>();
        Set<String> leasedMeanwhile = new HashSet<>();
        // a tenant found at its quota under its lock, or a job another worker's claim took while this statement ran,
        // is left out and the next candidate tried; each retry means another worker made progress, so this ends
        for (int round = 0; round < MAX_ROUNDS; round++) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                try {
                    Optional<Claim> claim = claimIn(c, workerId, ttl, capacity, tenantsAtQuota, leasedMeanwhile);
                    c.commit();
                    if (claim != null) {
                        return claim;
                    }
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                } finally {
                    c.setAutoCommit(true);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The claim in an open transaction; null when the candidate's tenant turned out to be at its quota or the candidate
     * was leased meanwhile (try again without it).
     */
    private Optional<Claim> claimIn(Connection c, String workerId, Duration ttl, Capacity capacity,
                                    Set<String> tenantsAtQuota, Set<String> leasedMeanwhile) throws SQLException {
        // q.state and q.claimed_at again on the locked row: a row claimed (or claimed and ended) by another worker
        // after this statement's snapshot is re-checked on its newest version under READ COMMITTED, and skipped
        String exclude = " WHERE q.state = 'queued' AND q.claimed_at IS NOT DISTINCT FROM k.claimed_at"
                + " AND (q.memory_bytes IS NULL OR q.memory_bytes <= ?)"
                + (capacity.families() == null ? "" : " AND (q.family IS NULL OR q.family = ANY (?))")
                + (tenantsAtQuota.isEmpty() ? "" : " AND k.tenant <> ALL (?)")
                + (leasedMeanwhile.isEmpty() ? "" : " AND k.job_id <> ALL (?)");
        String jobId;
        String tenant;
        String json;
        try (PreparedStatement ps = c.prepareStatement(RANKED + """
                SELECT q.job_id, q.tenant, q.request FROM job_queue q JOIN ranked k ON k.job_id = q.job_id"""
                + exclude + ORDER + " LIMIT 1 FOR UPDATE OF q SKIP LOCKED")) {
            int i = 1;
            ps.setLong(i++, capacity.memoryBytes());
            if (capacity.families() != null) {
                ps.setArray(i++, c.createArrayOf("text", capacity.families().toArray()));
            }
            if (!tenantsAtQuota.isEmpty()) {
                ps.setArray(i++, c.createArrayOf("text", tenantsAtQuota.toArray()));
            }
            if (!leasedMeanwhile.isEmpty()) {
                ps.setArray(i, c.createArrayOf("text", leasedMeanwhile.toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                jobId = rs.getString(1);
                tenant = rs.getString(2);
                json = rs.getString(3);
            }
        }
        OptionalInt quota = quota(c, tenant);
        if (quota.isPresent()) {
            // claims of one tenant with a quota take turns, so two workers cannot both see "one slot left"
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                ps.setString(1, "foundry-quota:" + tenant);
                ps.execute();
            }
            if (running(c, tenant) >= quota.getAsInt()) {
                tenantsAtQuota.add(tenant);
                return null;
            }
        }
        Optional<LeaseRepository.Taken> taken = leases.tryAcquire(c, jobId, workerId, attemptOf(json), ttl);
        if (taken.isEmpty()) {
            // Another worker's claim of this job committed after this statement's snapshot: the ranking saw it free,
            // and the row lock, released by that commit, was granted (READ COMMITTED re-checks only this row's own
            // columns, the lease is in job_leases). Not ours: try the next candidate (before, the claim came back
            // empty and the worker idled a poll interval with work queued). Also a lease renewed as it expired.
            leasedMeanwhile.add(jobId);
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE job_queue SET claimed_by = ?, claimed_at = clock_timestamp() WHERE job_id = ?")) {
            ps.setString(1, workerId);
            ps.setString(2, jobId);
            ps.executeUpdate();
        }
        return Optional.of(new Claim(read(json), taken.get().previous()));
    }

    private static OptionalInt quota(Connection c, String tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT max_running FROM tenant_quotas WHERE tenant = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? OptionalInt.of(rs.getInt(1)) : OptionalInt.empty();
            }
        }
    }

    private static int running(Connection c, String tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(*) FROM job_queue q JOIN job_leases l ON l.job_id = q.job_id
                 WHERE q.tenant = ? AND q.state = 'queued' AND l.released_at IS NULL AND l.expires_at > now()""")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Sets a tenant's concurrency quota; null removes it (unlimited). */
    public void setQuota(String tenant, Integer maxRunning) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            if (maxRunning == null) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM tenant_quotas WHERE tenant = ?")) {
                    ps.setString(1, tenant);
                    ps.executeUpdate();
                }
                return;
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO tenant_quotas (tenant, max_running) VALUES (?, ?)
                    ON CONFLICT (tenant) DO UPDATE SET max_running = EXCLUDED.max_running, updated_at = now()""")) {
                ps.setString(1, tenant);
                ps.setInt(2, maxRunning);
                ps.executeUpdate();
            }
        }
    }

    /** The claimable jobs in the order they would be claimed now (for tests, metrics and operators). */
    public List<String> claimOrder() throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(RANKED + "SELECT k.job_id FROM ranked k" + ORDER);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    /** Queued jobs nobody trains right now: the queue depth (what an autoscaler scales workers on). */
    public int depth() throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT count(*) FROM job_queue q WHERE q.state = 'queued' AND NOT EXISTS (
                         SELECT 1 FROM job_leases l WHERE l.job_id = q.job_id AND l.released_at IS NULL
                            AND l.expires_at > now())""");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private int attemptOf(String json) {
        return read(json).attempt();
    }

    private JobRequested read(String json) {
        try {
            return mapper.readValue(json, JobRequested.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("job_queue holds a request that does not parse: " + e.getMessage(), e);
        }
    }
}
