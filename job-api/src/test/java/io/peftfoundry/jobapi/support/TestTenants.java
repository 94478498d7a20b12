package io.peftfoundry.jobapi.support;

import io.peftfoundry.jobapi.auth.ApiKeys;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Two test tenants whose keys both job-api (rows in api_keys) and the artifact-store launched for the tests
 * ({@code FOUNDRY_STATIC_KEYS}) know. Fresh per test JVM, so reruns against a kept devstack never collide.
 */
public final class TestTenants {

    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    public static final String TENANT_A = "test-a-" + RUN;
    public static final String TENANT_B = "test-b-" + RUN;
    public static final String KEY_A = "pfk-test-a-" + UUID.randomUUID();
    public static final String KEY_B = "pfk-test-b-" + UUID.randomUUID();
    public static final String ADMIN_KEY = "test-admin-key";

    private static volatile boolean inserted;

    private TestTenants() {
    }

    /** {@code key=tenant,…} for artifact-store's FOUNDRY_STATIC_KEYS. */
    public static String staticKeys() {
        return KEY_A + "=" + TENANT_A + "," + KEY_B + "=" + TENANT_B + "," + ADMIN_KEY + "=admin";
    }

    /** Inserts the two tenants and their keys into job-api's schema (once per JVM). */
    public static synchronized void ensure(DataSource dataSource) throws SQLException {
        if (inserted) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            for (String[] t : new String[][] {{TENANT_A, KEY_A}, {TENANT_B, KEY_B}}) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO tenants (id, name) VALUES (?, ?)")) {
                    ps.setString(1, t[0]);
                    ps.setString(2, t[0]);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (id, tenant_id, key_hash, "
                        + "key_prefix, is_admin) VALUES (?, ?, ?, ?, FALSE)")) {
                    ps.setString(1, "key-" + t[0]);
                    ps.setString(2, t[0]);
                    ps.setString(3, ApiKeys.sha256Hex(t[1]));
                    ps.setString(4, t[1].substring(0, 10));
                    ps.executeUpdate();
                }
            }
        }
        inserted = true;
    }
}
