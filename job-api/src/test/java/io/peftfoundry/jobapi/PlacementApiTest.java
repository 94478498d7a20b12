package io.peftfoundry.jobapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.resources.DurationEstimate;
import io.peftfoundry.contracts.resources.MemoryEstimate;
import io.peftfoundry.contracts.resources.ModelShape;
import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Capacity-aware placement at submit, through the real path: two workers advertise themselves on
 * {@code foundry.workers} (real Kafka → job-api's consumer → PostgreSQL); a job that only the larger can hold is
 * accepted with its estimate, which travels in the {@code JobRequested}; a job neither can hold is refused naming
 * {@code hyperparameters.batch_size}, with the estimate and the batch size that would fit. The workers say {@code down}
 * afterwards, so the other test classes see no fleet (and refuse nothing).
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class PlacementApiTest {

    private static final ObjectMapper JSON = ContractsJson.newMapper();
    private static final long GIB = 1L << 30;
    /** MiniLM-L6's sizes in config.json (the weights are a 2×2 tensor: artifact-store counts 4 parameters). */
    private static final String CONFIG = """
            {"model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
             "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512}""";
    private static final ModelShape SHAPE = new ModelShape("bert", 4, 384, 6, 12, 1536, 30522);

    @Inject
    DataSource dataSource;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private final List<String> advertised = new ArrayList<>();

    @AfterEach
    void workersLeave() throws Exception {
        for (String w : advertised) {
            advertise(w, 0, WorkerCapabilities.DOWN);
        }
        for (String w : advertised) {
            await().atMost(Duration.ofSeconds(60)).until(() -> "down".equals(state(w)));
        }
    }

    @Test
    void aJobOnlyTheLargerWorkerCanHoldIsAcceptedAndOneNeitherCanHoldIsRefusedWithItsEstimate() throws Exception {
        TestTenants.ensure(dataSource);
        String run = UUID.randomUUID().toString().substring(0, 6);
        String large = "placement-large-" + run;
        String small = "placement-small-" + run;
        advertise(large, GIB, WorkerCapabilities.UP);
        advertise(small, GIB / 4, WorkerCapabilities.UP);
        await().atMost(Duration.ofSeconds(60)).until(() -> "up".equals(state(large)) && "up".equals(state(small)));

        String model = Fixtures.registerModel(TestTenants.KEY_A, CONFIG);
        String file = Fixtures.uploadDataset(TestTenants.KEY_A, "classification");

        // batch 4 x 128 tokens: 243 MiB of activations, about 0.4 GiB in all: only the 1 GiB worker holds it
        String fits = spec(model, file, 4);
        long expected = MemoryEstimate.of(SHAPE, JobSpecs.parse(fits)).peakBytes();
        assertTrue(expected > GIB / 4 && expected <= GIB, "the example needs the larger worker: " + expected);
        JsonNode job = JSON.readTree(post(fits).then().statusCode(201).extract().asString());
        assertEquals(expected, job.path("memory_estimate").path("peak_bytes").asLong(), job.toString());
        // 4 · B · S · L · (22·H + 4·I + 4·A·S) = 4 · 4 · 128 · 6 · 20,736 (worked in MemoryEstimateTest)
        assertEquals(254_803_968L, job.path("memory_estimate").path("activations_bytes").asLong(), job.toString());
        String id = job.path("id").asText();
        ConsumerRecord<String, String> record = Fixtures.findRecord(bootstrap, Topics.JOBS_REQUESTED, id, v -> true,
                Duration.ofSeconds(60));
        JsonNode resources = JSON.readTree(record.value()).path("resources");
        assertEquals("bert", resources.path("family").asText(), record.value());
        assertEquals(expected, resources.path("memory_bytes").asLong(), record.value());
        // the training time estimate travels too: 1 epoch of the 8-line file at batch 4 = 2 steps (DurationEstimate)
        assertEquals(DurationEstimate.seconds(SHAPE, JobSpecs.parse(fits), 8).getAsDouble(),
                resources.path("estimated_seconds").asDouble(), 1e-9, record.value());

        // batch 64: 3.8 GiB of activations; the largest batch that fits 1 GiB, found by trying each
        int largestFitting = 0;
        for (int b = 1; b <= 64; b++) {
            if (MemoryEstimate.of(SHAPE, JobSpecs.parse(spec(model, file, b))).peakBytes() <= GIB) {
                largestFitting = b;
            }
        }
        Response refused = post(spec(model, file, 64));
        refused.then().statusCode(400)
                .body("errors[0].field", org.hamcrest.Matchers.equalTo("hyperparameters.batch_size"))
                .body("errors[0].message", org.hamcrest.Matchers.containsString(
                        MemoryEstimate.human(MemoryEstimate.of(SHAPE, JobSpecs.parse(spec(model, file, 64))).peakBytes())))
                .body("errors[0].message", org.hamcrest.Matchers.containsString("offers 1.0 GiB (" + large))
                .body("errors[0].message", org.hamcrest.Matchers.containsString(
                        "batch_size " + largestFitting + " or less fits"));
    }

    private static String spec(String model, String file, int batch) {
        return """
                {"model": "%s", "training_file": "%s",
                 "hyperparameters": {"batch_size": %d, "max_seq_length": 128, "epochs": 1, "learning_rate": 0.001}}"""
                .formatted(model, file, batch);
    }

    private static Response post(String body) {
        return given().header("Authorization", "Bearer " + TestTenants.KEY_A).contentType("application/json")
                .body(body).post("/v1/fine_tuning/jobs");
    }

    private void advertise(String worker, long memory, String state) throws Exception {
        if (!advertised.contains(worker)) {
            advertised.add(worker);
        }
        WorkerCapabilities w = new WorkerCapabilities(worker, "cpu", memory, List.of("bert", "gpt2"), state,
                Instant.now());
        Fixtures.publishRaw(bootstrap, Topics.WORKERS, worker, JSON.writeValueAsString(w));
    }

    private String state(String worker) throws Exception {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT state FROM workers WHERE worker_id = ?")) {
            ps.setString(1, worker);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
