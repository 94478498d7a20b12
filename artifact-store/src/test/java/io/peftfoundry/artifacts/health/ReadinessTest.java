package io.peftfoundry.artifacts.health;

import io.peftfoundry.artifacts.JobApiStub;
import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(JobApiStub.class)
class ReadinessTest {

    @Test
    void readyOnlyWhileTheBucketAnswers() {
        given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItem("s3-bucket"));
        DevStackControl devstack = DevStackControl.local();
        devstack.stop("s3");
        try {
            given().get("/q/health/ready").then().statusCode(503)
                    .body("checks.find { it.name == 's3-bucket' }.status", equalTo("DOWN"));
        } finally {
            devstack.start("s3");
        }
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void metricsAndOpenApiAreServed() {
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
    }
}
