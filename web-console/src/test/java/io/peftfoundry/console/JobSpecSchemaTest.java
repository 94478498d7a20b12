package io.peftfoundry.console;

import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The new-job form is driven by platform-contracts' schema, served unchanged. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = UpstreamStub.class, scope = TestResourceScope.GLOBAL)
class JobSpecSchemaTest {

    @Test
    void servesTheContractsSchema() {
        String body = given().get("/api/schema/job-spec").then().statusCode(200)
                .contentType("application/json")
                .body("required", hasItems("model", "training_file"))
                .body("properties.method.properties.lora.properties.r.maximum", equalTo(512))
                .body("properties.hyperparameters.properties.epochs.default", equalTo("auto"))
                .extract().asString();
        assertEquals(JobSpecs.jsonSchema(), body);
    }
}
