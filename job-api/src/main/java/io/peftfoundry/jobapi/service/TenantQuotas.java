package io.peftfoundry.jobapi.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.TenantQuota;
import io.peftfoundry.support.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Per-tenant concurrency quotas: set by an admin, sent to the trainer workers as {@link TenantQuota} on
 * {@link Topics#TENANT_QUOTAS} through the outbox (the workers' claim enforces them, see trainer-worker README).
 */
@ApplicationScoped
public class TenantQuotas {

    private static final Logger LOG = Logger.getLogger(TenantQuotas.class);
    public static final int MAX = 10_000;

    private final DataSource dataSource;
    private final ObjectMapper mapper;

    public TenantQuotas(DataSource dataSource, ObjectMapper mapper) {
        this.dataSource = dataSource;
        this.mapper = mapper;
    }

    /** A tenant's quota as read back: null {@code maxRunningJobs} = unlimited; the tenant's jobs running and queued now. */
    public record Reading(String tenant, Integer maxRunningJobs, int runningJobs, int queuedJobs, Instant updatedAt) {
    }

    /** The quota of an existing tenant; 404 for an unknown one. */
    public Reading get(String tenant) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT q.max_running_jobs, q.updated_at,
                            (SELECT count(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'running'),
                            (SELECT count(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'queued')
                       FROM tenants t LEFT JOIN tenant_quotas q ON q.tenant_id = t.id WHERE t.id = ?""")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ProblemException.notFound("tenant", tenant);
                }
                int max = rs.getInt(1);
                Integer quota = rs.wasNull() ? null : max;
                java.sql.Timestamp at = rs.getTimestamp(2);
                return new Reading(tenant, quota, rs.getInt(3), rs.getInt(4), at == null ? null : at.toInstant());
            }
        }
    }

    /** Sets (or with null clears) the quota of an existing tenant; 404 for an unknown tenant. */
    public TenantQuota set(String tenant, Integer maxRunningJobs) throws SQLException {
        if (maxRunningJobs != null && (maxRunningJobs < 0 || maxRunningJobs > MAX)) {
            throw ProblemException.badRequest("max_running_jobs must be between 0 and " + MAX
                    + " (0 holds the tenant's queued jobs), or null for unlimited; got " + maxRunningJobs);
        }
        TenantQuota quota = new TenantQuota(tenant, maxRunningJobs, Instant.now());
        String json;
        try {
            json = mapper.writeValueAsString(quota);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("quota of " + tenant + " cannot be written as JSON", e);
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ?")) {
                    ps.setString(1, tenant);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw ProblemException.notFound("tenant", tenant);
                        }
                    }
                }
                if (maxRunningJobs == null) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM tenant_quotas WHERE tenant_id = ?")) {
                        ps.setString(1, tenant);
                        ps.executeUpdate();
                    }
                } else {
                    try (PreparedStatement ps = c.prepareStatement("""
                            INSERT INTO tenant_quotas (tenant_id, max_running_jobs) VALUES (?, ?)
                            ON CONFLICT (tenant_id) DO UPDATE
                               SET max_running_jobs = EXCLUDED.max_running_jobs, updated_at = now()""")) {
                        ps.setString(1, tenant);
                        ps.setInt(2, maxRunningJobs);
                        ps.executeUpdate();
                    }
                }
                Outbox.add(c, Topics.TENANT_QUOTAS, tenant, json);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
        LOG.infof("tenant %s: quota set to %s running jobs", tenant,
                maxRunningJobs == null ? "unlimited" : maxRunningJobs.toString());
        return quota;
    }
}
