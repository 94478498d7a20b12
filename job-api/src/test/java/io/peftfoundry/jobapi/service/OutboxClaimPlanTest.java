package io.peftfoundry.jobapi.service;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The outbox relay's claim stays linear in the backlog when the table's statistics predate it: statistics taken while
 * nothing was unsent, then 20,000 unsent rows (a burst of submissions before autovacuum re-analyses) — PostgreSQL's own
 * choice there is a nested-loop anti-join that rescans every unsent row per candidate; the relay's claim must not use
 * one. Everything happens in one transaction that is rolled back (the statistics too), so the relay and other tests
 * never see it.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class OutboxClaimPlanTest {

    @Inject
    DataSource dataSource;

    @Test
    void theClaimIsPlannedWithoutANestedLoopWhenStatisticsPredateABacklog() throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL");
                s.execute("INSERT INTO outbox (topic, message_key, payload, published_at) SELECT 't', 'plan-old-' || g, "
                        + "'{}', now() FROM generate_series(1, 2000) g");
                s.execute("ANALYZE outbox"); // the statistics: nothing unsent
                s.execute("INSERT INTO outbox (topic, message_key, payload) SELECT 't', 'plan-burst-' || (g / 2), "
                        + "'{}' FROM generate_series(1, 20000) g");
                String claim = OutboxRelay.CLAIM.replace("?", "100");
                // what PostgreSQL plans on its own here: the nested loop (else this test would show nothing)
                assertTrue(plan(s, claim).contains("Nested Loop"), "without the relay's setting:\n" + plan(s, claim));
                OutboxRelay.planClaimWithoutNestedLoops(c);
                String plan = plan(s, claim);
                assertFalse(plan.contains("Nested Loop"), "the relay's claim plan:\n" + plan);
            } finally {
                c.rollback();
            }
        }
    }

    private static String plan(Statement s, String query) throws Exception {
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = s.executeQuery("EXPLAIN (COSTS OFF) " + query)) {
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
        }
        return plan.toString();
    }
}
