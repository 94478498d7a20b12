package io.peftfoundry.jobapi;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.auth.ApiKeys;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduling as job-api shows and sets it: {@code queue_position} of queued jobs in the workers' claim order
 * (priority, then fair share between tenants), and the admin's per-tenant quota, sent to the workers via the outbox.
 * Queued jobs are written straight into the jobs table for two tenants of this test alone (no worker runs here), so
 * only their relative positions are asserted: other tests' queued jobs may stand between them.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class SchedulingApiTest {

    @Inject
    DataSource dataSource;

    private static RequestSpecification as(String key) {
        return given().header("Authorization", "Bearer " + key).contentType("application/json");
    }

    @Test
    void queuePositionFollowsPriorityThenTakesTurnsBetweenTenants() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String keyBig = tenant("sched-big-" + run);
        String keySmall = tenant("sched-small-" + run);
        Instant t0 = Instant.now().minusSeconds(60);
        String big1 = queuedJob("sched-big-" + run, "normal", t0);
        String big2 = queuedJob("sched-big-" + run, "normal", t0.plusSeconds(1));
        String small1 = queuedJob("sched-small-" + run, "normal", t0.plusSeconds(2));
        String bigHigh = queuedJob("sched-big-" + run, "high", t0.plusSeconds(3));

        int pBig1 = position(keyBig, big1);
        int pBig2 = position(keyBig, big2);
        int pSmall1 = position(keySmall, small1);
        int pHigh = position(keyBig, bigHigh);
        assertTrue(pHigh < pBig1, "high (" + pHigh + ") before the normal jobs queued earlier (" + pBig1 + ")");
        assertTrue(pBig1 < pSmall1, "the oldest first among first jobs of their tenants: " + pBig1 + " < " + pSmall1);
        assertTrue(pSmall1 < pBig2, "the small tenant's only job before the big tenant's second: " + pSmall1 + " < "
                + pBig2);
        // nothing has succeeded or runs for these tenants, but other tests' jobs may: only the position is certain
        as(keyBig).get("/v1/fine_tuning/jobs/" + big1).then().statusCode(200).body("priority", equalTo("normal"));
        as(keyBig).get("/v1/fine_tuning/jobs/" + bigHigh).then().statusCode(200).body("priority", equalTo("high"));
    }

    /**
     * queue_position follows the workers' longest-first order within a tenant (turn time = creation − estimated
     * seconds): a 1,000 s job created a minute after a 10 s job of its tenant stands before it; one created 2,000 s
     * after does not; another tenant's job still takes its turn between them.
     */
    @Test
    void queuePositionPutsATenantsLongerJobsFirstWithinTheirTurn() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String keyA = tenant("sched-long-" + run);
        String keyB = tenant("sched-turn-" + run);
        Instant t0 = Instant.now().minusSeconds(7200);
        String shortJob = queuedJob("sched-long-" + run, "normal", t0, 10.0);
        String longJob = queuedJob("sched-long-" + run, "normal", t0.plusSeconds(60), 1000.0);
        String tooLate = queuedJob("sched-long-" + run, "normal", t0.plusSeconds(2000), 1000.0);
        String other = queuedJob("sched-turn-" + run, "normal", t0.plusSeconds(1), null);
        int pShort = position(keyA, shortJob);
        int pLong = position(keyA, longJob);
        int pLate = position(keyA, tooLate);
        int pOther = position(keyB, other);
        assertTrue(pLong < pOther && pOther < pShort && pShort < pLate,
                "long " + pLong + ", other tenant " + pOther + ", short " + pShort + ", late " + pLate);
    }

    @Test
    void aJobThatIsNotQueuedHasNoQueuePosition() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String key = tenant("sched-done-" + run);
        String id = queuedJob("sched-done-" + run, "normal", Instant.now());
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE jobs SET status = 'running' WHERE id = ?")) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
        as(key).get("/v1/fine_tuning/jobs/" + id).then().statusCode(200)
                .body("queue_position", nullValue()).body("estimated_start", nullValue());
    }

    @Test
    void anAdminSetsATenantsQuotaAndItIsSentToTheWorkers() throws Exception {
        TestTenants.ensure(dataSource);
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": 2}")
                .put("/v1/admin/tenants/" + TestTenants.TENANT_A + "/quota").then().statusCode(200)
                .body("max_running_jobs", equalTo(2));
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": null}")
                .put("/v1/admin/tenants/" + TestTenants.TENANT_A + "/quota").then().statusCode(200)
                .body("max_running_jobs", nullValue());
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT payload->>'max_running_jobs' FROM outbox"
                     + " WHERE topic = 'foundry.tenants.quotas' AND message_key = ? ORDER BY id")) {
            ps.setString(1, TestTenants.TENANT_A);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("2", rs.getString(1));
                assertTrue(rs.next());
                assertEquals(null, rs.getString(1), "null clears the quota (unlimited)");
            }
        }
    }

    @Test
    void quotaInputIsCheckedAndOnlyAdminsMaySetIt() throws Exception {
        TestTenants.ensure(dataSource);
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": -1}")
                .put("/v1/admin/tenants/" + TestTenants.TENANT_A + "/quota").then().statusCode(400)
                .body("detail", containsString("max_running_jobs must be between 0 and 10000"));
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": \"two\"}")
                .put("/v1/admin/tenants/" + TestTenants.TENANT_A + "/quota").then().statusCode(400)
                .body("detail", containsString("max_running_jobs must be a whole number"));
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": 1}")
                .put("/v1/admin/tenants/no-such-tenant-" + UUID.randomUUID() + "/quota").then().statusCode(404);
        as(TestTenants.KEY_A).body("{\"max_running_jobs\": 100}")
                .put("/v1/admin/tenants/" + TestTenants.TENANT_A + "/quota").then().statusCode(403);
    }

    /**
     * A job held by its tenant's quota is not next: with quota 1 and two queued jobs, the tenant's second job stands
     * after another tenant's second job (without the quota, fair share would put it before), marked held_by_quota.
     */
    @Test
    void aJobHeldByItsTenantsQuotaStandsAfterEveryClaimableJob() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String capped = "sched-capped-" + run;
        String other = "sched-other-" + run;
        String keyCapped = tenant(capped);
        String keyOther = tenant(other);
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": 1}").put("/v1/admin/tenants/" + capped + "/quota")
                .then().statusCode(200);
        Instant t0 = Instant.now().minusSeconds(60);
        String c1 = queuedJob(capped, "normal", t0);
        String c2 = queuedJob(capped, "normal", t0.plusSeconds(1));
        String o1 = queuedJob(other, "normal", t0.plusSeconds(2));
        String o2 = queuedJob(other, "normal", t0.plusSeconds(3));

        int pc1 = position(keyCapped, c1);
        int pc2 = position(keyCapped, c2);
        int po1 = position(keyOther, o1);
        int po2 = position(keyOther, o2);
        assertTrue(pc1 < po1 && po1 < po2, "claimable jobs keep their fair-share order: " + pc1 + ", " + po1 + ", " + po2);
        assertTrue(po2 < pc2, "the held job (" + pc2 + ") after the other tenant's second job (" + po2 + ")");
        as(keyCapped).get("/v1/fine_tuning/jobs/" + c1).then().statusCode(200).body("held_by_quota", equalTo(false));
        as(keyCapped).get("/v1/fine_tuning/jobs/" + c2).then().statusCode(200).body("held_by_quota", equalTo(true));

        // the quota lifted: fair share again puts the capped tenant's second job before the other's second
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": null}").put("/v1/admin/tenants/" + capped + "/quota")
                .then().statusCode(200);
        assertTrue(position(keyCapped, c2) < position(keyOther, o2));
    }

    @Test
    void aQuotaIsReadableByAdminsAndByTheTenantItselfOnly() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String own = "sched-own-" + run;
        String keyOwn = tenant(own);
        String keyStranger = tenant("sched-stranger-" + run);
        as(keyOwn).get("/v1/admin/tenants/" + own + "/quota").then().statusCode(200)
                .body("object", equalTo("tenant.quota")).body("max_running_jobs", nullValue())
                .body("running_jobs", equalTo(0)).body("queued_jobs", equalTo(0));
        queuedJob(own, "normal", Instant.now());
        as(TestTenants.ADMIN_KEY).body("{\"max_running_jobs\": 3}").put("/v1/admin/tenants/" + own + "/quota")
                .then().statusCode(200);
        as(TestTenants.ADMIN_KEY).get("/v1/admin/tenants/" + own + "/quota").then().statusCode(200)
                .body("max_running_jobs", equalTo(3)).body("queued_jobs", equalTo(1));
        as(keyOwn).get("/v1/admin/tenants/" + own + "/quota").then().statusCode(200)
                .body("max_running_jobs", equalTo(3));
        as(keyStranger).get("/v1/admin/tenants/" + own + "/quota").then().statusCode(404);
        as(TestTenants.ADMIN_KEY).get("/v1/admin/tenants/no-such-" + run + "/quota").then().statusCode(404);
    }

    private int position(String key, String jobId) {
        return as(key).get("/v1/fine_tuning/jobs/" + jobId).then().statusCode(200)
                .body("status", equalTo("queued")).extract().path("queue_position");
    }

    /** A tenant with one key of its own; returns the key. */
    private String tenant(String id) throws Exception {
        String key = "pfk-" + id + "-" + UUID.randomUUID();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tenants (id, name) VALUES (?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys (id, tenant_id, key_hash, key_prefix,"
                    + " is_admin) VALUES (?, ?, ?, ?, FALSE)")) {
                ps.setString(1, "key-" + id);
                ps.setString(2, id);
                ps.setString(3, ApiKeys.sha256Hex(key));
                ps.setString(4, key.substring(0, 10));
                ps.executeUpdate();
            }
        }
        return key;
    }

    private String queuedJob(String tenant, String priority, Instant createdAt) throws Exception {
        return queuedJob(tenant, priority, createdAt, null);
    }

    /** A queued job whose {@code resources.estimated_seconds} is {@code seconds} (none when null). */
    private String queuedJob(String tenant, String priority, Instant createdAt, Double seconds) throws Exception {
        String id = "ftjob-" + UUID.randomUUID();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO jobs (id, tenant_id, status, spec, model, task, method_type, training_file, created_at,
                                       resources)
                     VALUES (?, ?, 'queued', ?::jsonb, 'm', 'classification', 'lora', 'file-1', ?, ?::jsonb)""")) {
            ps.setString(5, seconds == null ? null : "{\"estimated_seconds\": " + seconds + "}");
            ps.setString(1, id);
            ps.setString(2, tenant);
            ps.setString(3, """
                    {"model": "m", "task": "classification", "training_file": "file-1", "method": {"type": "lora"},
                     "hyperparameters": {}, "seed": 42, "metadata": {}, "priority": "%s"}""".formatted(priority));
            ps.setTimestamp(4, Timestamp.from(createdAt));
            ps.executeUpdate();
        }
        return id;
    }
}
