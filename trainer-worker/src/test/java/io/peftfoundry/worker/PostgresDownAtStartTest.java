package io.peftfoundry.worker;

import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker started while PostgreSQL is down (a restart of the database, or a worker restarted at that moment, as in
 * bench/chaos) waits for it instead of exiting at start-up: Flyway retries the connection. The resource below stops
 * PostgreSQL before the application starts and starts it again 40 s later, while the application is starting.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = PostgresDownAtStartTest.PostgresDownAtStart.class)
class PostgresDownAtStartTest {

    public static final class PostgresDownAtStart implements QuarkusTestResourceLifecycleManager {
        static volatile boolean stoppedBeforeStart;
        private final DevStackControl devstack = DevStackControl.local();

        @Override
        public Map<String, String> start() {
            devstack.stop("postgres");
            stoppedBeforeStart = "DOWN".equals(devstack.health().get("postgres"));
            CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(40_000); // longer than the application takes to reach Flyway, even at a load of 30
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                devstack.start("postgres");
            });
            return Map.of();
        }

        @Override
        public void stop() {
            if (!"UP".equals(devstack.health().get("postgres"))) {
                devstack.start("postgres");
            }
        }

        @Override
        public int order() {
            return 100; // after the devstack is up
        }
    }

    @Test
    void aWorkerStartedWhilePostgresIsDownStartsOnceItIsBack() {
        assertTrue(PostgresDownAtStart.stoppedBeforeStart, "PostgreSQL was down when the application started");
        given().get("/q/health/ready").then().statusCode(200);
    }
}
