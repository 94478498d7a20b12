package io.peftfoundry.jobapi.auth;

import io.peftfoundry.jobapi.config.JobApiConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * At start-up, makes the bootstrap admin key ({@code FOUNDRY_ADMIN_KEY}, written by {@code ./foundry up}) an admin key
 * of tenant {@code admin}: the row {@value #BOOTSTRAP_KEY_ID} holds the hash of the current value. Likewise the
 * services' own keys, {@code FOUNDRY_WORKER_KEY} ({@value #WORKER_KEY_ID}) and {@code FOUNDRY_EVAL_SERVICE_KEY}
 * ({@value #EVAL_SERVICE_KEY_ID}): service keys of tenant admin — they act for tenants and handle every tenant's
 * artifacts, but manage no tenant or key.
 */
@ApplicationScoped
public class AdminKeyBootstrap {

    public static final String ADMIN_TENANT = "admin";
    public static final String BOOTSTRAP_KEY_ID = "key-bootstrap-admin";
    public static final String WORKER_KEY_ID = "key-service-trainer-worker";
    public static final String EVAL_SERVICE_KEY_ID = "key-service-eval-service";

    private static final Logger LOG = Logger.getLogger(AdminKeyBootstrap.class);

    void onStart(@Observes StartupEvent event, JobApiConfig config, DataSource dataSource) throws SQLException {
        upsert(dataSource, config.auth().workerKey(), WORKER_KEY_ID, "trainer workers' service key", false);
        upsert(dataSource, config.auth().evalServiceKey(), EVAL_SERVICE_KEY_ID, "eval-service's service key", false);
        if (config.auth().adminKey().isEmpty() || config.auth().adminKey().get().isBlank()) {
            LOG.info("no FOUNDRY_ADMIN_KEY set: no bootstrap admin key (tenants can only be created by existing admin keys)");
            return;
        }
        upsert(dataSource, config.auth().adminKey(), BOOTSTRAP_KEY_ID, "bootstrap admin key", true);
    }

    private static void upsert(DataSource dataSource, java.util.Optional<String> value, String keyId, String name,
                               boolean admin) throws SQLException {
        if (value.isEmpty() || value.get().isBlank()) {
            return;
        }
        String secret = value.get().trim();
        String hash = ApiKeys.sha256Hex(secret);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement tenant = c.prepareStatement(
                    "INSERT INTO tenants (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING");
                 PreparedStatement upsert = c.prepareStatement(
                         "INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, name, is_admin, is_service) "
                                 + "VALUES (?, ?, ?, ?, ?, ?, ?) "
                                 + "ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash, "
                                 + "key_prefix = EXCLUDED.key_prefix, is_admin = EXCLUDED.is_admin, "
                                 + "is_service = EXCLUDED.is_service, revoked_at = CASE WHEN api_keys.key_hash = EXCLUDED.key_hash"
                                 + " THEN api_keys.revoked_at ELSE NULL END")) {
                tenant.setString(1, ADMIN_TENANT);
                tenant.setString(2, ADMIN_TENANT);
                tenant.executeUpdate();
                upsert.setString(1, keyId);
                upsert.setString(2, ADMIN_TENANT);
                upsert.setString(3, hash);
                upsert.setString(4, secret.substring(0, Math.min(10, secret.length())));
                upsert.setString(5, name);
                upsert.setBoolean(6, admin);
                upsert.setBoolean(7, !admin);
                upsert.executeUpdate();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        LOG.infof("%s %s of tenant %s is active", name, keyId, ADMIN_TENANT);
    }
}
