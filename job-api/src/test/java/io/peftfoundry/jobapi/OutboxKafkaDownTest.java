package io.peftfoundry.jobapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The durable outbox: with Kafka stopped, a submission still succeeds (nothing Kafka-related on the request path) and
 * its JobRequested is published once Kafka is back. Stops and starts Kafka of the devstack it runs against.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class OutboxKafkaDownTest {

    private final DevStackControl devstack = DevStackControl.local();

    @Inject
    DataSource dataSource;

    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void submissionWhileKafkaIsDownIsPublishedWhenItReturns() throws Exception {
        TestTenants.ensure(dataSource);
        String model = Fixtures.registerTinyModel(TestTenants.KEY_A);
        String file = Fixtures.uploadDataset(TestTenants.KEY_A, "classification");
        String body = "{\"model\":\"" + model + "\",\"training_file\":\"" + file + "\"}";

        devstack.stop("kafka");
        String id = given().header("Authorization", "Bearer " + TestTenants.KEY_A).contentType("application/json")
                .body(body).post("/v1/fine_tuning/jobs").then().statusCode(201)
                .body("status", equalTo("queued")).extract().path("id");
        devstack.start("kafka");

        ConsumerRecord<String, String> record = Fixtures.findRecord(bootstrap, Topics.JOBS_REQUESTED, id, v -> true,
                Duration.ofSeconds(120));
        JobRequested request = mapper.readValue(record.value(), JobRequested.class);
        assertEquals(id, request.jobId());
        assertEquals(1, request.attempt());
    }

    @AfterEach
    void kafkaBackUp() {
        if (!"UP".equals(devstack.health().get("kafka"))) {
            devstack.start("kafka");
        }
    }
}
