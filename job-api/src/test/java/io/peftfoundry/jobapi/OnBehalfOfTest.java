package io.peftfoundry.jobapi;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

/**
 * {@code Foundry-On-Behalf-Of}: the service key (the bootstrap admin key) creates a job in a tenant's name — the tenant
 * sees it, no other tenant does, and the service key itself has only that tenant's rights while acting; every other key
 * sending the header is refused.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class OnBehalfOfTest {

    private static final String HEADER = "Foundry-On-Behalf-Of";
    private static String modelA;
    private static String fileA;

    @Inject
    DataSource dataSource;

    @BeforeEach
    void tenantsAndArtifacts() throws Exception {
        TestTenants.ensure(dataSource);
        if (modelA == null) {
            // by id here (names acting for a tenant: actingForATenantAModelNameResolvesInThatTenant)
            String name = Fixtures.registerTinyModel(TestTenants.KEY_A);
            modelA = given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                    .get(ArtifactStoreTestResource.url() + "/v1/models/" + name).then().statusCode(200)
                    .extract().path("id");
            fileA = Fixtures.uploadDataset(TestTenants.KEY_A, "classification");
        }
    }

    private static RequestSpecification as(String key) {
        return given().header("Authorization", "Bearer " + key).contentType("application/json");
    }

    private static String body() {
        return "{\"model\":\"" + modelA + "\",\"training_file\":\"" + fileA + "\",\"method\":{\"type\":\"full\"},"
                + "\"metadata\":{\"foundry_baseline\":\"true\"}}";
    }

    @Test
    void serviceKeyCreatesTheJobInTheTenantsName() {
        String idem = "baseline-" + UUID.randomUUID();
        String id = as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_A).header("Idempotency-Key", idem)
                .body(body()).post("/v1/fine_tuning/jobs").then().statusCode(201)
                .body("metadata.foundry_baseline", equalTo("true"))
                .extract().path("id");
        // the tenant sees it as its own job …
        as(TestTenants.KEY_A).get("/v1/fine_tuning/jobs/" + id).then().statusCode(200)
                .body("method.type", equalTo("full"));
        as(TestTenants.KEY_A).get("/v1/fine_tuning/jobs?limit=100").then().statusCode(200).body("data.id", hasItem(id));
        // … another tenant does not, nor does the service key in its own tenant
        as(TestTenants.KEY_B).get("/v1/fine_tuning/jobs/" + id).then().statusCode(404);
        as(TestTenants.ADMIN_KEY).get("/v1/fine_tuning/jobs/" + id).then().statusCode(404);
        as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_B).get("/v1/fine_tuning/jobs/" + id).then()
                .statusCode(404);
        // the idempotency key is the tenant's: the retried POST answers 200 with the same job
        as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_A).header("Idempotency-Key", idem)
                .body(body()).post("/v1/fine_tuning/jobs").then().statusCode(200).body("id", equalTo(id));
        as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_A).get("/v1/auth/whoami").then().statusCode(200)
                .body("tenant", equalTo(TestTenants.TENANT_A)).body("admin", equalTo(false));
    }

    @Test
    void tenantKeysMayNotActForAnyone() {
        as(TestTenants.KEY_A).header(HEADER, TestTenants.TENANT_B).body(body()).post("/v1/fine_tuning/jobs").then()
                .statusCode(403).contentType(containsString("application/problem+json"))
                .body("detail", containsString(HEADER));
        // not even for its own tenant: the header is the service key's alone
        as(TestTenants.KEY_B).header(HEADER, TestTenants.TENANT_B).get("/v1/fine_tuning/jobs").then().statusCode(403);
    }

    @Test
    void unknownOrMalformedTenantIsABadRequest() {
        as(TestTenants.ADMIN_KEY).header(HEADER, "no-such-tenant-" + UUID.randomUUID()).get("/v1/fine_tuning/jobs")
                .then().statusCode(400).body("detail", containsString("does not exist"));
        as(TestTenants.ADMIN_KEY).header(HEADER, "a tenant; DROP").get("/v1/fine_tuning/jobs").then().statusCode(400)
                .body("detail", containsString("tenant id"));
    }

    @Test
    void actingForATenantGrantsNoAdminRights() {
        as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_A).body("{\"name\":\"x-" + UUID.randomUUID() + "\"}")
                .post("/v1/admin/tenants").then().statusCode(403);
        // without the header the same key is an admin again
        as(TestTenants.ADMIN_KEY).get("/v1/admin/tenants").then().statusCode(200);
    }

    /**
     * Issue 14 finding 6: acting for a tenant, the service key names the tenant's model by its name (as a baseline copies
     * the tenant's spec) and job-api finds it — the artifact checks run as that tenant, not as the key's own tenant.
     */
    @Test
    void actingForATenantAModelNameResolvesInThatTenant() throws Exception {
        String name = Fixtures.registerTinyModel(TestTenants.KEY_A);
        String spec = "{\"model\":\"" + name + "\",\"training_file\":\"" + fileA + "\",\"method\":{\"type\":\"full\"}}";
        as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_A).body(spec).post("/v1/fine_tuning/jobs")
                .then().statusCode(201);
        // and tenant B's name space does not have it
        as(TestTenants.ADMIN_KEY).header(HEADER, TestTenants.TENANT_B).body(spec).post("/v1/fine_tuning/jobs")
                .then().statusCode(400).body("errors.field", hasItem("model"));
    }
}
