package io.peftfoundry.eval;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.eval.support.ArtifactStoreProcess;
import io.peftfoundry.eval.support.JobApiStub;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Health, OpenAPI, metrics and the Flyway schema, against the real PostgreSQL and Kafka of devstack. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class PlatformEndpointsTest {

    @Inject
    DataSource dataSource;

    @Test
    void readyWhenPostgresAndKafkaAnswer() {
        // the Kafka consumers join their group a little after start-up
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
        given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'kafka' }.status", equalTo("UP"))
                .body("checks.find { it.name.contains('Database') }.status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void flywayCreatedTheTablesInItsOwnSchema() throws Exception {
        Set<String> tables = new HashSet<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(
                     "select table_name from information_schema.tables where table_schema = 'evals'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        assertEquals(Set.of("flyway_schema_history", "evaluations", "baselines", "job_specs", "sft_counterparts"), tables);
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select current_user, current_schema()")) {
            assertTrue(rs.next());
            assertEquals("evals", rs.getString(1));
            assertEquals("evals", rs.getString(2));
        }
    }

    @Test
    void openApiAndMetricsAnswer() {
        given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .body("info.title", equalTo("PEFT Foundry eval-service"));
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("jvm_memory_used_bytes"));
    }
}
