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
 * of tenant {@code admin}: the row {@value #BOOTSTRAP_KEY_ID} holds the hash of the current value.
 */
@ApplicationScoped
public class AdminKeyBootstrap {

    public static final String ADMIN_TENANT = "admin";
    public static final String BOOTSTRAP_KEY_ID = "key-bootstrap-admin";

    private static final Logger LOG = Logger.getLogger(AdminKeyBootstrap.class);

    void onStart(@Observes StartupEvent event, JobApiConfig config, DataSource dataSource) throws SQLException {
        if (config.auth().adminKey().isEmpty() || config.auth().adminKey().get().isBlank()) {
            LOG.info("no FOUNDRY_ADMIN_KEY set: no bootstrap admin key (tenants can only be created by existing admin keys)");
            return;
        }
        String secret = config.auth().adminKey().get().trim();
        String hash = ApiKeys.sha256Hex(secret);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement tenant = c.prepareStatement(
                    "INSERT INTO tenants (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING");
                 PreparedStatement upsert = c.prepareStatement(
                         "INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix, name, is_admin) "
                                 + "VALUES (?, ?, ?, ?, 'bootstrap admin key', TRUE) "
                                 + "ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash, "
                                 + "key_prefix = EXCLUDED.key_prefix, is_admin = TRUE, revoked_at = NULL")) {
                tenant.setString(1, ADMIN_TENANT);
                tenant.setString(2, ADMIN_TENANT);
                tenant.executeUpdate();
                upsert.setString(1, BOOTSTRAP_KEY_ID);
                upsert.setString(2, ADMIN_TENANT);
                upsert.setString(3, hash);
                upsert.setString(4, secret.substring(0, Math.min(10, secret.length())));
                upsert.executeUpdate();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        LOG.infof("bootstrap admin key %s of tenant %s is active", BOOTSTRAP_KEY_ID, ADMIN_TENANT);
    }
}
