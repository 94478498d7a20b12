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
