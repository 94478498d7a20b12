package io.peftfoundry.jobapi.rest;

import io.peftfoundry.support.problem.ProblemException;
import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import io.peftfoundry.jobapi.auth.AdminKeyBootstrap;
import io.peftfoundry.jobapi.auth.ApiKeys;
import io.peftfoundry.contracts.event.TenantQuota;
import io.peftfoundry.jobapi.service.TenantQuotas;
import io.peftfoundry.support.auth.CallerCache;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Tenants and their API keys; admin keys only. */
@Path("/v1/admin/tenants")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class AdminResource {

    private static final Logger LOG = Logger.getLogger(AdminResource.class);
    /** Tenant ids travel in artifact annotations, paths and logs: keep them plain. */
    private static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    private final CurrentCaller current;
    private final DataSource dataSource;
    private final ApiKeys keys;
    private final TenantQuotas quotas;
    private final CallerCache callers;

    public AdminResource(CurrentCaller current, DataSource dataSource, ApiKeys keys, TenantQuotas quotas,
                         CallerCache callers) {
        this.callers = callers;
        this.current = current;
        this.dataSource = dataSource;
        this.keys = keys;
        this.quotas = quotas;
    }

    /** {@code {"id": "acme", "name": "Acme search team"}}; {@code id} defaults to {@code name}. → 201 tenant. */
    @POST
    public Response create(JsonNode body) throws SQLException {
        current.requireAdmin();
        String name = body == null ? null : body.path("name").asText(null);
        String id = body == null ? null : body.path("id").asText(name);
        if (name == null || name.isBlank()) {
            throw ProblemException.badRequest("name is required");
        }
        if (id == null || !TENANT_ID.matcher(id).matches()) {
            throw ProblemException.badRequest("id must match " + TENANT_ID.pattern() + " (give an id when the name"
                    + " has other characters), got '" + id + "'");
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO tenants (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING created_at")) {
            ps.setString(1, id);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ProblemException.conflict("a tenant with id '" + id + "' or name '" + name + "' exists");
                }
                LOG.infof("tenant %s created", id);
                return Response.status(201).entity(tenant(id, name, rs.getTimestamp(1).toInstant().getEpochSecond()))
                        .build();
            }
        }
    }

    /** The tenants, newest first ({@code limit} 1–100, default 20; {@code after} a tenant id; keyset on created_at, id). */
    @GET
    public Map<String, Object> list(@QueryParam("limit") Integer limit, @QueryParam("after") String after)
            throws SQLException {
        current.requireAdmin();
        PageRequest page = PageRequest.of(limit, after);
        List<Map<String, Object>> data = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            if (page.after() != null) {
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ?")) {
                    ps.setString(1, page.after());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw page.unknownAfter("tenant");
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, created_at FROM tenants"
                    + (page.after() == null ? "" : " WHERE (created_at, id) < (SELECT created_at, id FROM tenants WHERE id = ?)")
                    + " ORDER BY created_at DESC, id DESC LIMIT ?")) {
                int i = 1;
                if (page.after() != null) {
                    ps.setString(i++, page.after());
                }
                ps.setInt(i, page.fetchSize());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        data.add(tenant(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant().getEpochSecond()));
                    }
                }
            }
        }
        return Page.of(data, page).body(t -> t, t -> (String) t.get("id"));
    }

    /**
     * {@code {"name": "ci", "admin": false, "service": false}} (all optional) → 201 with the secret {@code key}, shown
     * this once. {@code admin} and {@code service} keys belong to tenant {@code admin} only: a tenant's key never
     * manages tenants nor acts for other tenants.
     */
    @POST
    @Path("{id}/keys")
    public Response createKey(@PathParam("id") String tenant, JsonNode body) throws SQLException {
        current.requireAdmin();
        String name = body == null ? null : body.path("name").asText(null);
        boolean admin = body != null && body.path("admin").asBoolean(false);
        boolean service = body != null && body.path("service").asBoolean(false);
        if ((admin || service) && !AdminKeyBootstrap.ADMIN_TENANT.equals(tenant)) {
            FieldError error = new FieldError(admin ? "admin" : "service", "only keys of tenant '"
                    + AdminKeyBootstrap.ADMIN_TENANT + "' may be " + (admin ? "admin" : "service") + " keys; tenant '"
                    + tenant + "' gets ordinary keys");
            throw new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid request", error.toString(), List.of(error));
        }
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ?")) {
                ps.setString(1, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw ProblemException.notFound("tenant", tenant);
                    }
                }
            }
            ApiKeys.NewKey key = keys.create(c, tenant, name, admin, service);
            LOG.infof("API key %s created for tenant %s (admin=%s, service=%s)", key.id(), tenant, admin, service);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", key.id());
            m.put("object", "api_key");
            m.put("tenant", tenant);
            m.put("name", name);
            m.put("admin", admin);
            m.put("service", service);
            m.put("prefix", key.prefix());
            m.put("key", key.secret());
            return Response.status(201).entity(m).build();
        }
    }

    /**
     * The tenant's quota: {@code {"object": "tenant.quota", "tenant", "max_running_jobs" (null = unlimited),
     * "running_jobs", "queued_jobs", "updated_at"}}. An admin reads any tenant's; a tenant reads its own (another
     * tenant's → 404, as for every other resource of another tenant).
     */
    @GET
    @Path("{id}/quota")
    public Map<String, Object> quota(@PathParam("id") String tenant) throws SQLException {
        if (!current.get().admin() && !tenant.equals(current.get().tenant())) {
            throw ProblemException.notFound("tenant", tenant);
        }
        TenantQuotas.Reading q = quotas.get(tenant);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "tenant.quota");
        m.put("tenant", tenant);
        m.put("max_running_jobs", q.maxRunningJobs());
        m.put("running_jobs", q.runningJobs());
        m.put("queued_jobs", q.queuedJobs());
        m.put("updated_at", q.updatedAt() == null ? null : q.updatedAt().getEpochSecond());
        return m;
    }

    /**
     * {@code {"max_running_jobs": 2}} → at most two of the tenant's jobs train at once; {@code null} (or {@code {}})
     * → unlimited, the default. Reaches the workers within a second (outbox → {@code foundry.tenants.quotas}).
     */
    @PUT
    @Path("{id}/quota")
    public Map<String, Object> setQuota(@PathParam("id") String tenant, JsonNode body) throws SQLException {
        current.requireAdmin();
        JsonNode value = body == null ? null : body.get("max_running_jobs");
        Integer max = null;
        if (value != null && !value.isNull()) {
            if (!value.canConvertToInt() || !value.isIntegralNumber()) {
                throw ProblemException.badRequest("max_running_jobs must be a whole number or null, got " + value);
            }
            max = value.intValue();
        }
        TenantQuota quota = quotas.set(tenant, max);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "tenant.quota");
        m.put("tenant", tenant);
        m.put("max_running_jobs", quota.maxRunningJobs());
        return m;
    }

    /**
     * Revokes a key ({@code revoked_at}): refused here at once, on every other service once its auth cache entry
     * expires ({@code foundry.auth.cache-ttl}, seconds). → 200 the key's id and {@code revoked: true}; 404 for a key
     * the tenant does not have; 409 for the bootstrap key (rotate FOUNDRY_ADMIN_KEY instead).
     */
    @DELETE
    @Path("{id}/keys/{keyId}")
    public Map<String, Object> revokeKey(@PathParam("id") String tenant, @PathParam("keyId") String keyId)
            throws SQLException {
        current.requireAdmin();
        if (AdminKeyBootstrap.BOOTSTRAP_KEY_ID.equals(keyId)) {
            throw ProblemException.conflict("the bootstrap key is FOUNDRY_ADMIN_KEY and comes back at every start:"
                    + " rotate it there instead of revoking it");
        }
        ApiKeys.Revocation r = keys.revoke(tenant, keyId);
        if (r == ApiKeys.Revocation.NO_SUCH_KEY) {
            throw ProblemException.notFound("key of tenant " + tenant, keyId);
        }
        callers.invalidateAll();
        if (r == ApiKeys.Revocation.REVOKED) {
            LOG.infof("API key %s of tenant %s revoked by key %s", keyId, tenant, current.get().keyId());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", keyId);
        m.put("object", "api_key");
        m.put("tenant", tenant);
        m.put("revoked", true);
        return m;
    }

    private static Map<String, Object> tenant(String id, String name, long createdAt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "tenant");
        m.put("name", name);
        m.put("created_at", createdAt);
        return m;
    }
}
