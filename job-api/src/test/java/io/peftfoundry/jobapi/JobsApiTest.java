package io.peftfoundry.jobapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.ControlAction;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.AutoHyperparameters;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.ArtifactStoreTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jobs API against the real devstack (Kafka, PostgreSQL, S3) and a real artifact-store process. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreTestResource.class, scope = TestResourceScope.GLOBAL)
class JobsApiTest {

    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final long A1 = 1_000_000L; // seq of attempt 1 starts above this (attempt × 1,000,000 + n)

    private static String modelA;
    private static String modelB;
    private static String classificationFileA;
    private static String sftFileA;
    private static String classificationFileB;

    @Inject
    DataSource dataSource;

    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @TestHTTPResource
    URL base;

    @BeforeEach
    void tenantsAndArtifacts() throws Exception {
        TestTenants.ensure(dataSource);
        if (modelA == null) {
            modelA = Fixtures.registerTinyModel(TestTenants.KEY_A);
            modelB = Fixtures.registerTinyModel(TestTenants.KEY_B);
            classificationFileA = Fixtures.uploadDataset(TestTenants.KEY_A, "classification");
            sftFileA = Fixtures.uploadDataset(TestTenants.KEY_A, "sft");
            classificationFileB = Fixtures.uploadDataset(TestTenants.KEY_B, "classification");
        }
    }

    private static String spec(String model, String file) {
        return "{\"model\":\"" + model + "\",\"training_file\":\"" + file + "\"}";
    }

    private static Response post(String key, String body) {
        return given().header("Authorization", "Bearer " + key).contentType("application/json").body(body)
                .post("/v1/fine_tuning/jobs");
    }

    private static String createJob() {
        return post(TestTenants.KEY_A, spec(modelA, classificationFileA)).then().statusCode(201).extract().path("id");
    }

    private static JobEvent event(String jobId, long seq, JobEventType type, JobStatus status, Map<String, Object> data) {
        return new JobEvent(jobId, seq, type, status, data, Instant.parse("2026-01-01T00:00:00Z").plusSeconds(seq % 1000));
    }

    private static io.restassured.response.ValidatableResponse getJob(String key, String id) {
        return given().header("Authorization", "Bearer " + key).get("/v1/fine_tuning/jobs/" + id).then();
    }

    /**
     * OpenAI's request shape (issue 18): {@code method.type: supervised} with its hyperparameters and the older
     * top-level {@code hyperparameters.n_epochs} become our spec — LoRA, epochs, batch size, learning rate =
     * multiplier × the method's default — and the task follows the model: classification on an encoder, sft on a
     * decoder. A value our spec refuses, and OpenAI's dpo method, are 400s naming the field the caller sent.
     */
    @Test
    void openAiSupervisedMethodAndNEpochsMapOntoOurSpecWithTheTaskFollowingTheModel() throws Exception {
        post(TestTenants.KEY_A, """
                {"model": "%s", "training_file": "%s", "method": {"type": "supervised", "supervised":
                  {"hyperparameters": {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 2}}}}"""
                .formatted(modelA, classificationFileA)).then().statusCode(201)
                .body("task", equalTo("classification"))
                .body("method.type", equalTo("lora"))
                .body("hyperparameters.epochs", equalTo(2))
                .body("hyperparameters.batch_size", equalTo(4))
                // 2 × LoRA's default 5e-4
                .body("hyperparameters.learning_rate", equalTo(1e-3f))
                .body("hyperparameters.auto", org.hamcrest.Matchers.empty());

        String decoder = Fixtures.registerModel(TestTenants.KEY_A,
                "{\"model_type\":\"gpt2\",\"n_embd\":2,\"n_layer\":1,\"n_head\":1,\"vocab_size\":2}");
        post(TestTenants.KEY_A, """
                {"model": "%s", "training_file": "%s", "method": {"type": "supervised"},
                 "hyperparameters": {"n_epochs": "auto", "max_steps": 3}}""".formatted(decoder, sftFileA))
                .then().statusCode(201)
                .body("task", equalTo("sft"))
                .body("method.type", equalTo("lora"))
                .body("hyperparameters.auto", hasItem("epochs"));

        post(TestTenants.KEY_A, """
                {"model": "%s", "training_file": "%s", "hyperparameters": {"n_epochs": 0}}"""
                .formatted(modelA, classificationFileA)).then().statusCode(400)
                .body("error.param", equalTo("hyperparameters.n_epochs"))
                .body("errors[0].message", containsString("hyperparameters.epochs"));
        post(TestTenants.KEY_A, """
                {"model": "%s", "training_file": "%s", "method": {"type": "dpo", "dpo": {}}}"""
                .formatted(modelA, classificationFileA)).then().statusCode(400)
                .body("error.param", equalTo("method.type"))
                .body("errors[0].message", containsString("not supported"));
    }

    @Test
    void createdJobIsQueuedWithDefaultsAndItsRequestIsPublished() throws Exception {
        String id = post(TestTenants.KEY_A, spec(modelA, classificationFileA)).then().statusCode(201)
                .body("id", startsWith("ftjob-"))
                .body("object", equalTo("fine_tuning.job"))
                .body("status", equalTo("queued"))
                .body("model", equalTo(modelA))
                .body("task", equalTo("classification"))
                // the documented defaults are filled in and shown
                .body("method.type", equalTo("lora"))
                .body("method.lora.r", equalTo(8))
                // epochs, batch size and learning rate left out are "auto", chosen from the 8-line training file:
                // batch = largest power of two ≤ max(1, 8/10) = 1, epochs = ⌈150·1/8⌉ = 19 (150 steps),
                // learning rate = LoRA's 5e-4 · √(1/16) = 1.25e-4
                .body("hyperparameters.epochs", equalTo(19))
                .body("hyperparameters.batch_size", equalTo(1))
                .body("hyperparameters.learning_rate", equalTo(1.25e-4f))
                .body("hyperparameters.auto", containsInAnyOrder("epochs", "batch_size", "learning_rate"))
                .body("seed", equalTo(42))
                .body("attempt", equalTo(1))
                .body("progress.step", equalTo(0))
                .body("started_at", nullValue())
                .body("created_at", notNullValue())
                .extract().path("id");

        ConsumerRecord<String, String> record = Fixtures.findRecord(bootstrap, Topics.JOBS_REQUESTED, id, v -> true, BOUND);
        JobRequested request = mapper.readValue(record.value(), JobRequested.class);
        assertEquals(id, request.jobId());
        assertEquals(TestTenants.TENANT_A, request.tenant());
        assertEquals(1, request.attempt());
        assertNull(request.resumeFrom());
        assertEquals(AutoHyperparameters.resolve(JobSpecs.parse(spec(modelA, classificationFileA)), 8), request.spec());

        given().get("/q/metrics").then().body(containsString("foundry_jobs_created_total"))
                .body(containsString("foundry_outbox_unsent"));
    }

    @Test
    void badSpecsAreRefusedNamingEachField() {
        post(TestTenants.KEY_A, "{\"model\":\"" + modelA + "\",\"training_file\":\"" + classificationFileA
                + "\",\"bogus\":1,\"hyperparameters\":{\"learning_rate\":50,\"epochs\":-1}}").then().statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("errors.field", hasItem("bogus"))
                .body("errors.field", hasItem("hyperparameters.learning_rate"))
                .body("errors.field", hasItem("hyperparameters.epochs"));
        post(TestTenants.KEY_A, spec("no-such-model", "file-nope")).then().statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("errors.field", containsInAnyOrder("model", "training_file"));
        // a sft dataset for a classification job
        post(TestTenants.KEY_A, spec(modelA, sftFileA)).then().statusCode(400)
                .body("errors.field", containsInAnyOrder("training_file"))
                .body("errors[0].message", containsString("'sft'"));
        post(TestTenants.KEY_A, "{\"model\":\"" + modelA + "\",\"training_file\":\"" + classificationFileA
                + "\",\"validation_file\":\"" + sftFileA + "\",\"init_adapter\":\"adapter-missing\"}").then()
                .statusCode(400).body("errors.field", containsInAnyOrder("validation_file", "init_adapter"));
        // another tenant's file and model are unknown to this tenant
        post(TestTenants.KEY_A, spec(modelB, classificationFileB)).then().statusCode(400)
                .body("errors.field", containsInAnyOrder("model", "training_file"));
    }

    @Test
    void idempotencyKeyReturnsTheSameJobPerTenant() {
        String key = "idem-" + UUID.randomUUID();
        String body = "{\"model\":\"" + modelA + "\",\"training_file\":\"" + classificationFileA + "\",\"seed\":7}";
        String reordered = "{ \"seed\": 7, \"training_file\": \"" + classificationFileA + "\", \"model\": \"" + modelA + "\" }";
        String first = given().header("Authorization", "Bearer " + TestTenants.KEY_A).header("Idempotency-Key", key)
                .contentType("application/json").body(body).post("/v1/fine_tuning/jobs").then().statusCode(201)
                .extract().path("id");
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).header("Idempotency-Key", key)
                .contentType("application/json").body(reordered).post("/v1/fine_tuning/jobs").then().statusCode(200)
                .body("id", equalTo(first));
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).header("Idempotency-Key", key)
                .contentType("application/json").body(body.replace("7", "8")).post("/v1/fine_tuning/jobs").then()
                .statusCode(422).contentType(containsString("application/problem+json"))
                .body("detail", containsString(first));
        // the same key of another tenant is another key
        String other = given().header("Authorization", "Bearer " + TestTenants.KEY_B).header("Idempotency-Key", key)
                .contentType("application/json").body(spec(modelB, classificationFileB)).post("/v1/fine_tuning/jobs")
                .then().statusCode(201).extract().path("id");
        assertTrue(!other.equals(first));
    }

    @Test
    void concurrentDuplicatesMakeOneJob() throws Exception {
        String key = "idem-race-" + UUID.randomUUID();
        String body = spec(modelA, classificationFileA);
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                    .header("Idempotency-Key", key).contentType("application/json").body(body)
                    .post("/v1/fine_tuning/jobs").then().extract().path("id")));
        }
        String id = calls.get(0).get(60, TimeUnit.SECONDS);
        for (CompletableFuture<String> call : calls) {
            assertEquals(id, call.get(60, TimeUnit.SECONDS));
        }
    }

    @Test
    void anotherTenantsJobIsNotFound() {
        String id = createJob();
        getJob(TestTenants.KEY_B, id).statusCode(404).contentType(containsString("application/problem+json"));
        given().header("Authorization", "Bearer " + TestTenants.KEY_B).post("/v1/fine_tuning/jobs/" + id + "/cancel")
                .then().statusCode(404);
        given().header("Authorization", "Bearer " + TestTenants.KEY_B).get("/v1/fine_tuning/jobs/" + id + "/events")
                .then().statusCode(404);
        given().header("Authorization", "Bearer " + TestTenants.KEY_B).get("/v1/fine_tuning/jobs?limit=100").then()
                .statusCode(200).body("data.id", not(hasItem(id)));
        getJob(TestTenants.KEY_A, id).statusCode(200);
    }

    @Test
    void listIsNewestFirstWithACursor() {
        String a = createJob();
        String b = createJob();
        String c = createJob();
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs?limit=2").then()
                .statusCode(200).body("object", equalTo("list"))
                .body("data.id", equalTo(List.of(c, b))).body("has_more", equalTo(true))
                .body("first_id", equalTo(c)).body("last_id", equalTo(b));
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs?limit=1&after=" + b)
                .then().statusCode(200).body("data.id", equalTo(List.of(a)));
        // a bad limit or cursor is a 400 naming the parameter, in RFC 9457 and OpenAI's error shape
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs?limit=101").then()
                .statusCode(400).body("errors[0].field", equalTo("limit")).body("error.param", equalTo("limit"));
        given().header("Authorization", "Bearer " + TestTenants.KEY_B).get("/v1/fine_tuning/jobs?after=" + b).then()
                .statusCode(400).body("error.param", equalTo("after"));
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs/" + a + "/events?after=x")
                .then().statusCode(400).body("error.param", equalTo("after"));
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs/" + a + "/checkpoints?limit=0")
                .then().statusCode(400).body("error.param", equalTo("limit"));
        // a limit that is not a number is a 400 naming it too (JAX-RS alone answers a bare 404)
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs?limit=abc&after=" + b)
                .then().statusCode(400).body("errors[0].field", equalTo("limit")).body("error.param", equalTo("limit"))
                .body("detail", containsString("abc"));
    }

    @Test
    void requestsWithoutAValidKeyAre401() {
        given().get("/v1/fine_tuning/jobs").then().statusCode(401)
                .contentType(containsString("application/problem+json"));
        given().header("Authorization", "Bearer nope").get("/v1/auth/whoami").then().statusCode(401);
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/auth/whoami").then().statusCode(200)
                .body("tenant", equalTo(TestTenants.TENANT_A)).body("admin", equalTo(false))
                .body("key_id", equalTo("key-" + TestTenants.TENANT_A));
    }

    @Test
    void adminCreatesTenantsAndKeys() {
        String tenant = "team-" + UUID.randomUUID().toString().substring(0, 8);
        given().header("Authorization", "Bearer " + TestTenants.ADMIN_KEY).get("/v1/auth/whoami").then()
                .statusCode(200).body("tenant", equalTo("admin")).body("admin", equalTo(true));
        given().header("Authorization", "Bearer " + TestTenants.ADMIN_KEY).contentType("application/json")
                .body("{\"name\":\"" + tenant + "\"}").post("/v1/admin/tenants").then().statusCode(201)
                .body("id", equalTo(tenant));
        given().header("Authorization", "Bearer " + TestTenants.ADMIN_KEY).contentType("application/json")
                .body("{\"name\":\"" + tenant + "\"}").post("/v1/admin/tenants").then().statusCode(409);
        given().header("Authorization", "Bearer " + TestTenants.ADMIN_KEY).get("/v1/admin/tenants").then()
                .statusCode(200).body("data.id", hasItem(tenant));
        String key = given().header("Authorization", "Bearer " + TestTenants.ADMIN_KEY).contentType("application/json")
                .body("{\"name\":\"ci\"}").post("/v1/admin/tenants/" + tenant + "/keys").then().statusCode(201)
                .body("key", startsWith("pfk-")).extract().path("key");
        given().header("Authorization", "Bearer " + key).get("/v1/auth/whoami").then().statusCode(200)
                .body("tenant", equalTo(tenant)).body("admin", equalTo(false));
        // only admin keys administer
        given().header("Authorization", "Bearer " + key).contentType("application/json").body("{\"name\":\"x\"}")
                .post("/v1/admin/tenants").then().statusCode(403);
        given().header("Authorization", "Bearer " + TestTenants.ADMIN_KEY).contentType("application/json")
                .body("{}").post("/v1/admin/tenants/no-such-tenant/keys").then().statusCode(404);
    }

    @Test
    void queuedJobIsCancelledAtOnceAndAFinishedJobCannotBe() throws Exception {
        String id = createJob();
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).post("/v1/fine_tuning/jobs/" + id + "/cancel")
                .then().statusCode(200).body("status", equalTo("cancelled")).body("finished_at", notNullValue());
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).post("/v1/fine_tuning/jobs/" + id + "/cancel")
                .then().statusCode(409).contentType(containsString("application/problem+json"));
        // a worker that already took the request is told to drop it
        ConsumerRecord<String, String> control = Fixtures.findRecord(bootstrap, Topics.JOBS_CONTROL, id, v -> true, BOUND);
        assertEquals(new JobControl(id, ControlAction.CANCEL),
                mapper.readValue(control.value(), JobControl.class));
        // a late "running" from a worker is stored but the job stays cancelled
        Fixtures.publishEvents(mapper, bootstrap, List.of(event(id, A1 + 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of())));
        await().atMost(BOUND).untilAsserted(() -> given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                .get("/v1/fine_tuning/jobs/" + id + "/events").then().body("data.seq", hasItem((int) (A1 + 1))));
        getJob(TestTenants.KEY_A, id).body("status", equalTo("cancelled"));
    }

    @Test
    void eventsAreAppliedInSeqOrderAndOnlyOnce() throws Exception {
        String id = createJob();
        JobEvent running = event(id, A1 + 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of());
        JobEvent metrics5 = event(id, A1 + 2, JobEventType.METRICS, null,
                Map.of("step", 5, "total_steps", 20, "loss", 0.9, "eta_seconds", 60));
        JobEvent checkpoint = event(id, A1 + 3, JobEventType.CHECKPOINT, null, Map.of("checkpoint_id", "ckpt-x5", "step", 5));
        JobEvent metrics10 = event(id, A1 + 4, JobEventType.METRICS, null,
                Map.of("step", 10, "total_steps", 20, "loss", 0.5, "eta_seconds", 30, "trained_tokens", 1280));
        // the worker's evaluation at step 10 is a metrics event without progress fields: it must not erase progress
        JobEvent eval10 = event(id, A1 + 5, JobEventType.METRICS, null, Map.of("step", 10, "eval", Map.of("accuracy", 0.5)));
        // out of order and duplicated: 1, 4, 2, 3, 4, 5, 1
        Fixtures.publishEvents(mapper, bootstrap,
                List.of(running, metrics10, metrics5, checkpoint, metrics10, eval10, running));
        await().atMost(BOUND).untilAsserted(() -> given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                .get("/v1/fine_tuning/jobs/" + id + "/events").then().statusCode(200)
                // every event stored once, listed oldest (lowest seq) first
                .body("data.seq", equalTo(List.of((int) (A1 + 1), (int) (A1 + 2), (int) (A1 + 3), (int) (A1 + 4),
                        (int) (A1 + 5)))));
        // state follows the highest seq applied: step 10 of 20 = 50 %; the late step-5 metrics did not roll it back
        getJob(TestTenants.KEY_A, id).body("status", equalTo("running"))
                .body("progress.step", equalTo(10)).body("progress.total_steps", equalTo(20))
                .body("progress.percent", equalTo(50.0f)).body("trained_tokens", equalTo(1280))
                .body("started_at", equalTo((int) running.at().getEpochSecond()))
                // estimated_finish = the metrics event's time + eta_seconds
                .body("estimated_finish", equalTo((int) metrics10.at().plusSeconds(30).getEpochSecond()));
        // the checkpoint arrived late but is listed
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).get("/v1/fine_tuning/jobs/" + id + "/checkpoints")
                .then().statusCode(200).body("data.id", equalTo(List.of("ckpt-x5"))).body("data[0].step", equalTo(5))
                .body("has_more", equalTo(false)).body("first_id", equalTo("ckpt-x5")).body("last_id", equalTo("ckpt-x5"));
        // paging with after= (event id or seq)
        String firstId = given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                .get("/v1/fine_tuning/jobs/" + id + "/events?limit=1").then().body("has_more", equalTo(true))
                .extract().path("data[0].id");
        given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                .get("/v1/fine_tuning/jobs/" + id + "/events?limit=2&after=" + firstId).then()
                .body("data.seq", equalTo(List.of((int) (A1 + 2), (int) (A1 + 3))));

        Fixtures.publishEvents(mapper, bootstrap, List.of(
                event(id, A1 + 6, JobEventType.STATUS, JobStatus.SUCCEEDED,
                        Map.of("adapter_id", "adapter-abc", "trained_tokens", 2560, "step", 20, "total_steps", 20)),
                event(id, A1 + 7, JobEventType.STATUS, JobStatus.RUNNING, Map.of())));
        // the succeeded event's total (2 × the 1280 tokens reported at step 10 of 20) replaces the last metrics value
        await().atMost(BOUND).untilAsserted(() -> getJob(TestTenants.KEY_A, id).body("status", equalTo("succeeded"))
                .body("adapter", equalTo("adapter-abc")).body("finished_at", notNullValue())
                .body("trained_tokens", equalTo(2560))
                // OpenAI's name for the result: the adapter id (what /v1/chat/completions takes as `model`)
                .body("fine_tuned_model", equalTo("adapter-abc")).body("result_files", equalTo(List.of()))
                .body("organization_id", equalTo(TestTenants.TENANT_A))
                // the succeeded event's final step ends the progress (the metrics of steps 11-20 never came)
                .body("progress.step", equalTo(20)).body("progress.total_steps", equalTo(20))
                .body("progress.percent", equalTo(100.0f)));
        await().atMost(BOUND).untilAsserted(() -> given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                .get("/v1/fine_tuning/jobs/" + id + "/events?limit=100").then().body("data.size()", equalTo(7)));
        getJob(TestTenants.KEY_A, id).body("status", equalTo("succeeded"));
    }

    @Test
    void sseReplaysAfterLastEventIdThenStreamsLiveUntilTerminal() throws Exception {
        String id = createJob();
        Fixtures.publishEvents(mapper, bootstrap, List.of(
                event(id, A1 + 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of()),
                event(id, A1 + 2, JobEventType.MESSAGE, null, Map.of("message", "loading backbone")),
                event(id, A1 + 3, JobEventType.METRICS, null, Map.of("step", 1, "total_steps", 2))));
        await().atMost(BOUND).untilAsserted(() -> given().header("Authorization", "Bearer " + TestTenants.KEY_A)
                .get("/v1/fine_tuning/jobs/" + id + "/events").then().body("data.size()", equalTo(3)));

        HttpRequest request = HttpRequest.newBuilder(URI.create(base.toString().replaceAll("/$", "")
                        + "/v1/fine_tuning/jobs/" + id + "/events"))
                .header("Authorization", "Bearer " + TestTenants.KEY_A)
                .header("Accept", "text/event-stream")
                .header("Last-Event-ID", Long.toString(A1 + 1)).GET().build();
        HttpResponse<java.io.InputStream> response = HttpClient.newHttpClient()
                .send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        // each SSE event frame (lines up to a blank line), exactly as it came over the wire; comment-only frames
        // (the keep-alive an idle stream gets every second in tests) carry no event and are left out
        List<List<String>> frames = new ArrayList<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                List<String> frame = new ArrayList<>();
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.isEmpty()) {
                        frame.add(line);
                    } else if (!frame.isEmpty()) {
                        if (!frame.stream().allMatch(l -> l.startsWith(":"))) {
                            synchronized (frames) {
                                frames.add(frame);
                            }
                        }
                        frame = new ArrayList<>();
                    }
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        // replay: only what came after seq A1+1
        await().atMost(BOUND).until(() -> {
            synchronized (frames) {
                return frames.size() >= 2;
            }
        });
        // live: a new event reaches the open stream; the terminal status ends it
        Fixtures.publishEvents(mapper, bootstrap, List.of(
                event(id, A1 + 4, JobEventType.STATUS, JobStatus.SUCCEEDED, Map.of("adapter_id", "adapter-sse"))));
        reader.get(60, TimeUnit.SECONDS); // the server closed the stream
        assertEquals(3, frames.size(), "frames: " + frames);
        long[] seqs = {A1 + 2, A1 + 3, A1 + 4};
        String[] types = {"message", "metrics", "status"};
        for (int i = 0; i < frames.size(); i++) {
            List<String> frame = frames.get(i);
            // exactly: the id (the seq, for Last-Event-ID), the event name and one data line holding the event JSON
            assertEquals(3, frame.size(), "frame " + i + ": " + frame);
            assertEquals("id:" + seqs[i], frame.get(0), "frame " + i + ": " + frame);
            assertEquals("event:message", frame.get(1), "frame " + i + ": " + frame);
            assertTrue(frame.get(2).startsWith("data:"), "frame " + i + ": " + frame);
            JsonNode event = mapper.readTree(frame.get(2).substring(5));
            assertEquals(types[i], event.path("type").asText(), "frame " + i + ": " + frame);
        }
        JsonNode last = mapper.readTree(frames.get(2).get(2).substring(5));
        assertEquals("succeeded", last.path("status").asText());
    }

    @Test
    void pauseAndResumeFollowTheWorkersEvents() throws Exception {
        String id = createJob();
        Fixtures.publishEvents(mapper, bootstrap, List.of(event(id, A1 + 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of())));
        await().atMost(BOUND).untilAsserted(() -> getJob(TestTenants.KEY_A, id).body("status", equalTo("running")));
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).post("/v1/fine_tuning/jobs/" + id + "/resume")
                .then().statusCode(409);
        // pause asks the worker; the job stays running until the worker says paused
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).post("/v1/fine_tuning/jobs/" + id + "/pause")
                .then().statusCode(200).body("status", equalTo("running"));
        ConsumerRecord<String, String> control = Fixtures.findRecord(bootstrap, Topics.JOBS_CONTROL, id, v -> true, BOUND);
        assertEquals(new JobControl(id, ControlAction.PAUSE),
                mapper.readValue(control.value(), JobControl.class));
        Fixtures.publishEvents(mapper, bootstrap, List.of(
                event(id, A1 + 2, JobEventType.CHECKPOINT, null, Map.of("checkpoint_id", "ckpt-p4", "step", 4)),
                event(id, A1 + 3, JobEventType.STATUS, JobStatus.PAUSED, Map.of())));
        await().atMost(BOUND).untilAsserted(() -> getJob(TestTenants.KEY_A, id).body("status", equalTo("paused")));

        given().header("Authorization", "Bearer " + TestTenants.KEY_A).post("/v1/fine_tuning/jobs/" + id + "/resume")
                .then().statusCode(200).body("status", equalTo("queued")).body("attempt", equalTo(2));
        ConsumerRecord<String, String> resumed = Fixtures.findRecord(bootstrap, Topics.JOBS_REQUESTED, id,
                v -> v.contains("ckpt-p4"), BOUND);
        JobRequested request = mapper.readValue(resumed.value(), JobRequested.class);
        assertEquals(2, request.attempt());
        assertEquals("ckpt-p4", request.resumeFrom());

        // the second attempt's events (seq 2,000,001 …) apply
        Fixtures.publishEvents(mapper, bootstrap, List.of(event(id, 2 * A1 + 1, JobEventType.STATUS, JobStatus.RUNNING, Map.of())));
        await().atMost(BOUND).untilAsserted(() -> getJob(TestTenants.KEY_A, id).body("status", equalTo("running"))
                .body("attempt", equalTo(2)));
    }
}
