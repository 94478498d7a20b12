package io.peftfoundry.jobapi;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.service.OutboxRelay;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Published outbox rows are deleted once older than the retention; younger and unsent rows stay. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class OutboxRetentionTest {

    @Inject
    DataSource dataSource;

    @Inject
    OutboxRelay relay;

    @Test
    void publishedRowsPastTheRetentionAreDeletedOthersStay() throws Exception {
        String key = "ftjob-retention-" + UUID.randomUUID();
        // created 3 h ago: published 2 h ago (past a 1 h retention), published 10 min ago (within), never published
        long old = insert(key, "now() - interval '3 hours'", "now() - interval '2 hours'");
        long recent = insert(key, "now() - interval '3 hours'", "now() - interval '10 minutes'");
        long unsent = insert(key, "now() - interval '3 hours'", "NULL");

        int deleted = relay.deletePublished(Duration.ofHours(1));

        assertTrue(deleted >= 1, "at least our old published row is deleted, got " + deleted);
        assertEquals(false, exists(old), "published 2 h ago, retention 1 h: deleted");
        assertEquals(true, exists(recent), "published 10 min ago, retention 1 h: kept");
        // the relay may publish it meanwhile (then it was published just now): either way it is not deleted
        assertEquals(true, exists(unsent), "never published before the cleanup: kept");
        // nothing published more than an hour ago is left anywhere
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM outbox WHERE published_at < now() - interval '1 hour'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertEquals(0, rs.getLong(1));
        }
    }

    private long insert(String key, String createdAt, String publishedAt) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO outbox (topic, message_key, payload, created_at, "
                     + "published_at) VALUES (?, ?, ?::jsonb, " + createdAt + ", " + publishedAt + ") RETURNING id")) {
            ps.setString(1, Topics.JOBS_CONTROL);
            ps.setString(2, key);
            ps.setString(3, "{\"job_id\":\"" + key + "\",\"action\":\"cancel\"}");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private boolean exists(long id) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM outbox WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
