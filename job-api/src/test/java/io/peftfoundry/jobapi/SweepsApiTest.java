package io.peftfoundry.jobapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /v1/sweeps} against the real devstack and artifact-store: children are ordinary jobs of the tenant; their
 * validation results — published on {@code foundry.jobs.events} as a worker publishes them — drive the ranking and
 * successive halving.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class SweepsApiTest {

    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final long A1 = 1_000_000L;

    private static String model;
    private static String train;
    private static String valid;

    @Inject
    DataSource dataSource;

    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @BeforeEach
    void artifacts() throws Exception {
        TestTenants.ensure(dataSource);
        if (model == null) {
            model = Fixtures.registerTinyModel(TestTenants.KEY_A);
            train = Fixtures.uploadDataset(TestTenants.KEY_A, "classification");
            valid = Fixtures.uploadDataset(TestTenants.KEY_A, "classification");
        }
    }

    private String base() {
        return "{\"model\":\"" + model + "\",\"training_file\":\"" + train + "\",\"validation_file\":\"" + valid + "\"}";
    }

    private static JsonPath postSweep(String body) {
        return given().header("Authorization", "Bearer " + TestTenants.KEY_A).contentType("application/json")
                .body(body).post("/v1/sweeps").then().statusCode(201).extract().jsonPath();
    }

    private static JsonPath getSweep(String key, String id) {
        return given().header("Authorization", "Bearer " + key).get("/v1/sweeps/" + id).then().extract().jsonPath();
    }

    private static JobEvent event(String jobId, long seq, JobEventType type, JobStatus status, Map<String, Object> data) {
        return new JobEvent(jobId, seq, type, status, data, Instant.now());
    }

    @Test
    void sweepOfSixChildrenQueuesSixOrdinaryJobsOnlyItsTenantSees() {
        JsonPath sweep = postSweep("{\"base\":" + base() + ",\"grid\":{\"method\":[{\"type\":\"lora\"},"
                + "{\"type\":\"ia3\"},{\"type\":\"prompt\"}],\"hyperparameters.learning_rate\":[0.001,0.01]}}");
        String id = sweep.getString("id");
        assertTrue(id.startsWith("sweep-"));
        assertEquals(6, sweep.getList("children").size());
        assertEquals("running", sweep.getString("status"));
        assertEquals("accuracy", sweep.getString("metric"));
        for (String jobId : sweep.<String>getList("children.job_id")) {
            given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs/" + jobId).then()
                    .statusCode(200).body("status", equalTo("queued")).body("metadata.sweep_id", equalTo(id));
        }
        assertEquals(0.01, sweep.getDouble("children[5].params.'hyperparameters.learning_rate'"), 1e-12);
        given().header("Authorization", "Bearer " + TestTenants.KEY_B).get("/v1/sweeps/" + id).then().statusCode(404);
    }

    @Test
    void invalidChildIsRefusedWith400NamingTheTrialAndNothingIsQueued() {
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).contentType("application/json")
                .body("{\"base\":" + base() + ",\"grid\":{\"hyperparameters.learning_rate\":[0.001,7]}}")
                .post("/v1/sweeps").then().statusCode(400)
                .body("errors.field", org.hamcrest.Matchers.hasItem("trials[1].hyperparameters.learning_rate"));
    }

    /**
     * Four children (30 steps each), validation losses at step 10 — a third of the way, the rung — of 1, 2, 3 and 4:
     * the two worst are stopped (a cancel goes out for each). Then the two survivors succeed with final validation
     * accuracies 0.8 and 0.9: the sweep succeeded and its best child is the 0.9 one.
     */
    @Test
    void successiveHalvingStopsTheWorstHalfAndTheBestChildIsTheHighestFinalAccuracy() throws Exception {
        JsonPath sweep = postSweep("{\"base\":" + base() + ",\"grid\":{\"hyperparameters.learning_rate\":"
                + "[0.001,0.002,0.003,0.004]}}");
        String id = sweep.getString("id");
        List<String> jobs = sweep.getList("children.job_id");
        List<JobEvent> events = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String job = jobs.get(i);
            events.add(event(job, A1 + 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of()));
            events.add(event(job, A1 + 2, JobEventType.METRICS, null,
                    Map.of("step", 10, "total_steps", 30, "loss", 1.0, "learning_rate", 0.001)));
            events.add(event(job, A1 + 3, JobEventType.METRICS, null,
                    Map.of("step", 10, "eval", Map.of("loss", 1.0 + i, "accuracy", 0.5))));
        }
        Fixtures.publishEvents(mapper, bootstrap, events);
        await().atMost(BOUND).untilAsserted(() -> {
            JsonPath s = getSweep(TestTenants.KEY_A, id);
            assertEquals(List.of(false, false, true, true), s.getList("children.stopped_early"));
        });
        for (int i = 2; i < 4; i++) {
            String job = jobs.get(i);
            Fixtures.findRecord(bootstrap, Topics.JOBS_CONTROL, job, v -> v.contains("cancel"), BOUND);
        }
        Fixtures.publishEvents(mapper, bootstrap, List.of(
                event(jobs.get(0), A1 + 4, JobEventType.STATUS, JobStatus.SUCCEEDED,
                        Map.of("adapter", "adapter-a", "eval", Map.of("loss", 0.6, "accuracy", 0.8))),
                event(jobs.get(1), A1 + 4, JobEventType.STATUS, JobStatus.SUCCEEDED,
                        Map.of("adapter", "adapter-b", "eval", Map.of("loss", 0.5, "accuracy", 0.9))),
                event(jobs.get(2), A1 + 4, JobEventType.STATUS, JobStatus.CANCELLED, Map.of()),
                event(jobs.get(3), A1 + 4, JobEventType.STATUS, JobStatus.CANCELLED, Map.of())));
        await().atMost(BOUND).untilAsserted(() -> {
            JsonPath s = getSweep(TestTenants.KEY_A, id);
            assertEquals("succeeded", s.getString("status"));
            assertEquals(jobs.get(1), s.getString("best.job_id"));
            assertEquals(0.9, s.getDouble("best.metric"), 1e-12);
            assertEquals(4, s.getInt("progress.finished"));
        });
    }

    @Test
    void cancellingASweepCancelsEveryUnfinishedChild() {
        JsonPath sweep = postSweep("{\"base\":" + base() + ",\"grid\":{\"seed\":[1,2,3]}}");
        String id = sweep.getString("id");
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).post("/v1/sweeps/" + id + "/cancel").then()
                .statusCode(200).body("status", equalTo("cancelled"))
                .body("children.status", everyItem(equalTo("cancelled"))).body("children", hasSize(3));
        assertFalse(getSweep(TestTenants.KEY_A, id).getList("children.job_id").isEmpty());
    }
}
