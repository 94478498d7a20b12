package io.peftfoundry.jobapi;

import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

/**
 * Readiness follows the dependencies: DOWN while PostgreSQL or Kafka is gone, UP again when it is back; liveness stays
 * UP throughout (restarting the service would not bring a dependency back).
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class ReadinessTest {

    private static final Duration BOUND = Duration.ofSeconds(90);

    private final DevStackControl devstack = DevStackControl.local();

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "kafka"})
    void readinessFollowsTheDependency(String component) {
        awaitReady(200, "UP");

        devstack.stop(component);
        awaitReady(503, "DOWN");
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));

        devstack.start(component);
        awaitReady(200, "UP");
    }

    @AfterEach
    void everythingBackUp() {
        // a failed assertion must not leave the shared devstack without a component
        for (String component : new String[] {"postgres", "kafka"}) {
            if (!"UP".equals(devstack.health().get(component))) {
                devstack.start(component);
            }
        }
    }

    private static void awaitReady(int status, String state) {
        await().atMost(BOUND).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(status).body("status", equalTo(state)));
    }
}
