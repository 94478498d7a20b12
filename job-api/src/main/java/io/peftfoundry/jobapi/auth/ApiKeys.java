package io.peftfoundry.jobapi.auth;

import io.peftfoundry.jobapi.config.JobApiConfig;
import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys: generated with 256 random bits, stored as their SHA-256 only (a hash lookup of a high-entropy secret needs no
 * slow KDF and no constant-time compare). Resolved keys are cached for {@code foundry.auth.cache-ttl}.
 */
@ApplicationScoped
public class ApiKeys {

    /** Prefix of every generated key, so a leaked key is recognisable by secret scanners. */
    public static final String KEY_PREFIX = "pfk-";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final DataSource dataSource;
    private final long cacheTtlNanos;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Caller caller, long expiresAt) {
    }

    /** A freshly generated key: the secret (shown once) and the row that was stored. */
    public record NewKey(String id, String tenant, String secret, String prefix, boolean admin) {
    }

    public ApiKeys(DataSource dataSource, JobApiConfig config) {
        this.dataSource = dataSource;
        this.cacheTtlNanos = config.auth().cacheTtl().toNanos();
    }

    public static String sha256Hex(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The caller a presented key belongs to, or empty for an unknown or revoked key. */
    public Optional<Caller> resolve(String secret) throws SQLException {
        String hash = sha256Hex(secret);
        long now = System.nanoTime();
        Cached cached = cache.get(hash);
        if (cached != null && cached.expiresAt - now > 0) {
            return Optional.of(cached.caller);
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT id, tenant_id, is_admin FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")) {
            ps.setString(1, hash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    cache.remove(hash);
                    return Optional.empty();
                }
                Caller caller = new Caller(rs.getString(2), rs.getString(1), rs.getBoolean(3));
                cache.put(hash, new Cached(caller, now + cacheTtlNanos));
                return Optional.of(caller);
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
    public NewKey create(Connection c, String tenant, String name, boolean admin) throws SQLException {
        String secret = KEY_PREFIX + randomToken(32);
        String id = "key-" + randomToken(9).replace('-', 'x').replace('_', 'y');
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, name, is_admin) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, tenant);
            ps.setString(3, sha256Hex(secret));
            ps.setString(4, secret.substring(0, 10));
            ps.setString(5, name);
            ps.setBoolean(6, admin);
            ps.executeUpdate();
        }
        return new NewKey(id, tenant, secret, secret.substring(0, 10), admin);
    }
}
