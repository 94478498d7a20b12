package io.peftfoundry.jobapi.auth;

import io.peftfoundry.support.auth.BearerAuthFilter;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.auth.CallerCache;
import io.peftfoundry.support.auth.CallerResolver;
import io.peftfoundry.support.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * API keys, and the key authority of the platform ({@link CallerResolver}; every other service asks here through
 * {@code GET /v1/auth/whoami}). Keys are generated with 256 random bits and stored as their SHA-256 only (a hash lookup
 * of a high-entropy secret needs no slow KDF and no constant-time compare). The service core's {@code CallerCache}
 * keeps resolved keys for {@code foundry.auth.cache-ttl}.
 *
 * <p>{@value BearerAuthFilter#ON_BEHALF_OF}: the bootstrap key and service keys may name an existing tenant and then
 * act as that tenant — its jobs, its idempotency keys, its 404s — without their own rights. Any other key sending the
 * header gets 403; a malformed or unknown tenant gets 400.
 */
@ApplicationScoped
public class ApiKeys implements CallerResolver {

    /** Prefix of every generated key, so a leaked key is recognisable by secret scanners. */
    public static final String KEY_PREFIX = "pfk-";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Logger LOG = Logger.getLogger(ApiKeys.class);

    private final DataSource dataSource;

    /** A freshly generated key: the secret (shown once) and the row that was stored. */
    public record NewKey(String id, String tenant, String secret, String prefix, boolean admin, boolean service) {
    }

    public ApiKeys(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public static String sha256Hex(String secret) {
        return CallerCache.sha256Hex(secret);
    }

    static String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Override
    public Optional<Caller> resolve(String secret, String onBehalfOf) {
        try {
            Optional<Caller> caller = lookup(secret);
            if (caller.isEmpty() || onBehalfOf == null) {
                return caller;
            }
            Caller key = caller.get();
            if (!key.service() && !AdminKeyBootstrap.BOOTSTRAP_KEY_ID.equals(key.keyId())) {
                throw ProblemException.forbidden(BearerAuthFilter.ON_BEHALF_OF + " is accepted from the platform's"
                        + " service keys only; key " + key.keyId() + " acts for its own tenant: drop the header");
            }
            if (!TENANT.matcher(onBehalfOf).matches()) {
                throw new ProblemException(400, "Bad Request", BearerAuthFilter.ON_BEHALF_OF + " must be a tenant id"
                        + " (letters, digits, '.', '_', '-'), got '" + onBehalfOf + "'");
            }
            if (!tenantExists(onBehalfOf)) {
                throw new ProblemException(400, "Bad Request", BearerAuthFilter.ON_BEHALF_OF + " names tenant '"
                        + onBehalfOf + "', which does not exist (GET /v1/admin/tenants lists them)");
            }
            LOG.debugf("key %s acts for tenant %s", key.keyId(), onBehalfOf);
            return Optional.of(key.actingFor(onBehalfOf));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read api_keys: " + e.getMessage(), e);
        }
    }

    /** The caller a presented key belongs to, or empty for an unknown or revoked key. */
    private Optional<Caller> lookup(String secret) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT id, tenant_id, is_admin, is_service FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")) {
            ps.setString(1, sha256Hex(secret));
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Caller(rs.getString(2), rs.getString(1), rs.getBoolean(3), rs.getBoolean(4), null));
            }
        }
    }

    /** What revoking a key found. */
    public enum Revocation { REVOKED, ALREADY_REVOKED, NO_SUCH_KEY }

    /** Sets {@code revoked_at} of the tenant's key; a key revoked before stays as it was. */
    public Revocation revoke(String tenant, String keyId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement update = c.prepareStatement(
                     "UPDATE api_keys SET revoked_at = now() WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL");
             PreparedStatement exists = c.prepareStatement("SELECT 1 FROM api_keys WHERE tenant_id = ? AND id = ?")) {
            update.setString(1, tenant);
            update.setString(2, keyId);
            if (update.executeUpdate() == 1) {
                return Revocation.REVOKED;
            }
            exists.setString(1, tenant);
            exists.setString(2, keyId);
            try (ResultSet rs = exists.executeQuery()) {
                return rs.next() ? Revocation.ALREADY_REVOKED : Revocation.NO_SUCH_KEY;
            }
        }
    }

    /** Whether a tenant with this id exists (for {@code Foundry-On-Behalf-Of}). */
    public boolean tenantExists(String tenant) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Creates a key for an existing tenant; the secret is returned here and never again. */
    public NewKey create(Connection c, String tenant, String name, boolean admin, boolean service) throws SQLException {
        String secret = KEY_PREFIX + randomToken(32);
        String id = "key-" + randomToken(9).replace('-', 'x').replace('_', 'y');
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, name, is_admin, is_service)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, tenant);
            ps.setString(3, sha256Hex(secret));
            ps.setString(4, secret.substring(0, 10));
            ps.setString(5, name);
            ps.setBoolean(6, admin);
            ps.setBoolean(7, service);
            ps.executeUpdate();
        }
        return new NewKey(id, tenant, secret, secret.substring(0, 10), admin, service);
    }
}
