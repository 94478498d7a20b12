package io.peftfoundry.jobapi;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * Issue 14 finding 7: keys can be revoked (refused at once here; elsewhere within the auth cache TTL), {@code admin}
 * and {@code service} keys exist only in tenant admin, and a service key (the workers', eval-service's) acts for
 * tenants but manages nothing.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class ApiKeyAdminTest {

    private static final String WORKER_KEY = "test-worker-key"; // %test.foundry.auth.worker-key

    @Inject
    DataSource dataSource;

    @BeforeEach
    void tenants() throws Exception {
        TestTenants.ensure(dataSource);
    }

    private static RequestSpecification as(String key) {
        return given().header("Authorization", "Bearer " + key).contentType("application/json");
    }

    @Test
    void aRevokedKeyIsRefusedAtOnce() {
        var created = as(TestTenants.ADMIN_KEY).body("{\"name\":\"to-revoke\"}")
                .post("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys").then().statusCode(201)
                .extract().jsonPath();
        String secret = created.getString("key");
        String keyId = created.getString("id");
        as(secret).get("/v1/auth/whoami").then().statusCode(200).body("tenant", equalTo(TestTenants.TENANT_A));

        as(TestTenants.ADMIN_KEY).delete("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys/" + keyId)
                .then().statusCode(200).body("revoked", equalTo(true));
        as(secret).get("/v1/auth/whoami").then().statusCode(401);
        // idempotent; another tenant's key id is not found under this tenant; tenants cannot revoke
        as(TestTenants.ADMIN_KEY).delete("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys/" + keyId)
                .then().statusCode(200);
        as(TestTenants.ADMIN_KEY).delete("/v1/admin/tenants/" + TestTenants.TENANT_B + "/keys/" + keyId)
                .then().statusCode(404);
        as(TestTenants.KEY_A).delete("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys/" + keyId)
                .then().statusCode(403);
        as(TestTenants.ADMIN_KEY).delete("/v1/admin/tenants/admin/keys/key-bootstrap-admin").then().statusCode(409);
    }

    @Test
    void adminAndServiceKeysAreNotGrantableToAnOrdinaryTenant() {
        as(TestTenants.ADMIN_KEY).body("{\"name\":\"sneaky\",\"admin\":true}")
                .post("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys").then().statusCode(400)
                .body("errors[0].field", equalTo("admin"));
        as(TestTenants.ADMIN_KEY).body("{\"name\":\"sneaky\",\"service\":true}")
                .post("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys").then().statusCode(400)
                .body("errors[0].field", equalTo("service"));
        as(TestTenants.ADMIN_KEY).body("{\"name\":\"ops\",\"admin\":true}")
                .post("/v1/admin/tenants/admin/keys").then().statusCode(201).body("admin", equalTo(true));
    }

    @Test
    void theWorkersServiceKeyActsForTenantsButManagesNothing() {
        as(WORKER_KEY).get("/v1/auth/whoami").then().statusCode(200)
                .body("tenant", equalTo("admin")).body("service", equalTo(true)).body("admin", equalTo(false));
        as(WORKER_KEY).header("Foundry-On-Behalf-Of", TestTenants.TENANT_A).get("/v1/auth/whoami").then()
                .statusCode(200).body("tenant", equalTo(TestTenants.TENANT_A)).body("acting_from", equalTo("admin"))
                .body("service", equalTo(false));
        as(WORKER_KEY).get("/v1/admin/tenants").then().statusCode(403);
        as(WORKER_KEY).body("{\"name\":\"x\"}").post("/v1/admin/tenants/" + TestTenants.TENANT_A + "/keys")
                .then().statusCode(403);
        // an ordinary tenant key still may not act for anyone
        as(TestTenants.KEY_A).header("Foundry-On-Behalf-Of", TestTenants.TENANT_B).get("/v1/auth/whoami").then()
                .statusCode(403).body("detail", containsString("service keys only"));
    }
}
