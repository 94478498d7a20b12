package io.peftfoundry.eval;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.eval.service.EvalStore;
import io.peftfoundry.eval.serving.TinyModels;
import io.peftfoundry.eval.support.ArtifactStoreProcess;
import io.peftfoundry.eval.support.JobApiStub;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole path against the real Kafka, PostgreSQL and S3 of devstack and the real artifact-store (its jar as a
 * process); only job-api is a stand-in. A tiny random BERT is registered as the tenant's model, datasets and a LoRA
 * adapter trained here are uploaded, and job-api's messages are sent as job-api and the worker would:
 * {@code JobRequested}, then {@code JobEvent}s. Every expected number comes from peft-engine run here directly on
 * the same files.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class EvaluationFlowTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOLERANCE = 1e-6;

    @Inject
    EvalStore store;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void succeededJobsAreEvaluatedComparedAndServed() throws Exception {
        awaitReady();
        Path tmp = Files.createTempDirectory("eval-flow-");
        Path backboneDir = TinyModels.backbone(tmp.resolve("backbone"), 11);
        ArtifactClient acme = new ArtifactClient(ArtifactStoreProcess.url(), "key-acme");
        String modelId = registerModel(backboneDir, "tiny-bert-" + run);
        Path trainFile = writeJsonl(tmp.resolve("train.jsonl"), TinyModels.toyTask(48, 21));
        Path validFile = writeJsonl(tmp.resolve("valid.jsonl"), TinyModels.toyTask(16, 22));
        String trainId = acme.uploadFile(trainFile, "fine-tune", "classification").path("id").asText();
        String validId = acme.uploadFile(validFile, "fine-tune", "classification").path("id").asText();

        Path loraDir = TinyModels.trainAdapter(backboneDir, new LoraConfig(4, 8, 0.0, List.of("query", "value"), false),
                3, tmp.resolve("lora"));
        JsonNode lora = acme.uploadAdapter(loraDir, Map.of("job_id", "ftjob-lora-" + run, "base_model", modelId,
                "method", "lora"));

        String loraJob = "ftjob-lora-" + run;
        String failedJob = "ftjob-failed-" + run;
        String cancelledJob = "ftjob-cancelled-" + run;
        String noAdapterJob = "ftjob-noadapter-" + run;
        String missingAdapterJob = "ftjob-missing-" + run;
        ObjectNode spec = spec(modelId, trainId, validId, "lora");

        try (KafkaProducer<String, String> kafka = producer()) {
            for (String job : List.of(loraJob, failedJob, cancelledJob, noAdapterJob, missingAdapterJob)) {
                sendRequested(kafka, job, spec);
            }
            // foundry.jobs.events has one partition: these are handled in this order
            sendStatus(kafka, failedJob, 5, "failed", Map.of("error", Map.of("code", "training_error", "message", "x")));
            sendStatus(kafka, cancelledJob, 5, "cancelled", Map.of());
            sendStatus(kafka, noAdapterJob, 9, "succeeded", Map.of("step", 10));
            sendStatus(kafka, noAdapterJob, 9, "succeeded", Map.of("step", 10)); // redelivered
            sendStatus(kafka, missingAdapterJob, 9, "succeeded", Map.of("adapter", "adapter-doesnotexist" + run));
            sendStatus(kafka, loraJob, 9, "succeeded", Map.of("adapter", lora.path("id").asText(),
                    "trainable_parameters", 546, "total_parameters", 15_000, "train_seconds", 3.0,
                    "tokens_per_second", 900.0, "peak_rss_bytes", 600_000_000L));
        }

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
                store.evaluationsOfJob("acme", loraJob).stream().anyMatch(e -> !"running".equals(e.status())));

        // failed and cancelled jobs were handled before: no evaluation for them
        assertEquals(0, store.evaluationsOfJob("acme", failedJob).size());
        assertEquals(0, store.evaluationsOfJob("acme", cancelledJob).size());
        // a redelivered event does not evaluate twice; an event without an adapter fails with the reason
        List<EvalStore.Evaluation> noAdapter = store.evaluationsOfJob("acme", noAdapterJob);
        assertEquals(1, noAdapter.size());
        assertEquals("failed", noAdapter.get(0).status());
        assertTrue(noAdapter.get(0).error().contains("names no adapter"), noAdapter.get(0).error());
        EvalStore.Evaluation missing = store.evaluationsOfJob("acme", missingAdapterJob).get(0);
        assertEquals("failed", missing.status());
        assertTrue(missing.error().contains("is not in artifact-store"), missing.error());

        // the adapter's score is peft-engine's on the validation file
        EvalResult expectedLora = evaluateDirectly(backboneDir, loraDir, validFile);
        EvalStore.Evaluation loraEval = store.evaluationsOfJob("acme", loraJob).get(0);
        assertEquals("succeeded", loraEval.status(), String.valueOf(loraEval.error()));
        assertEquals(expectedLora.accuracy(), ((Number) loraEval.metrics().get("accuracy")).doubleValue(), 1e-12);
        assertEquals(expectedLora.macroF1(), ((Number) loraEval.metrics().get("macro_f1")).doubleValue(), 1e-12);
        assertEquals(expectedLora.loss(), ((Number) loraEval.metrics().get("loss")).doubleValue(), TOLERANCE);
        assertEquals(16, ((Number) loraEval.metrics().get("examples")).intValue());

        // no baseline for this data yet: one full fine-tune submitted to job-api with the same data and seed
        // (right after the adapter's evaluation is stored)
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                store.baselineByKey(loraEval.baselineKey()).map(b -> b.jobId() != null).orElse(false));
        List<JobApiStub.Submission> posts = JobApiStub.SUBMISSIONS.stream()
                .filter(s -> loraJob.equals(s.body().path("metadata").path("baseline_for").asText())).toList();
        assertEquals(1, posts.size());
        JsonNode baselineSpec = posts.get(0).body();
        assertEquals("full", baselineSpec.path("method").path("type").asText());
        assertEquals(trainId, baselineSpec.path("training_file").asText());
        assertEquals(validId, baselineSpec.path("validation_file").asText());
        assertEquals(7, baselineSpec.path("seed").asInt());
        assertEquals("acme", posts.get(0).onBehalfOf(), "the baseline is the tenant's job");
        EvalStore.Baseline pending = store.baselineByKey(loraEval.baselineKey()).orElseThrow();
        assertEquals("running", pending.status());
        given().auth().oauth2("key-acme").get("/v1/comparisons/" + loraJob).then().statusCode(200)
                .body("baseline.status", equalTo("running")).body("comparison", nullValue());

        // the baseline job finishes: a real full fine-tune of the tiny backbone, stored as the worker stores it (a
        // Hugging Face model directory with its tokenizer, lineage method "full")
        Path fullDir = TinyModels.trainAdapter(backboneDir, new FullFineTune.Config(), 5, tmp.resolve("base"));
        Files.copy(backboneDir.resolve("tokenizer.json"), fullDir.resolve("tokenizer.json"));
        String baselineJob = pending.jobId();
        JsonNode full = acme.uploadAdapter(fullDir, Map.of("job_id", baselineJob, "base_model", modelId,
                "method", "full"));
        assertEquals("hf-model", full.path("lineage").path("format").asText());
        try (KafkaProducer<String, String> kafka = producer()) {
            sendRequested(kafka, baselineJob, (ObjectNode) baselineSpec);
            sendStatus(kafka, baselineJob, 9, "succeeded", Map.of("adapter", full.path("id").asText(),
                    "trainable_parameters", 2000, "total_parameters", 15_000, "train_seconds", 12.0,
                    "tokens_per_second", 300.0, "peak_rss_bytes", 900_000_000L));
        }
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
                store.evaluationsOfJob("acme", loraJob).get(0).comparison() != null);

        EvalResult expectedBase = evaluateDirectly(backboneDir, fullDir, validFile);
        EvalStore.Evaluation baseEval = store.evaluationsOfJob("acme", baselineJob).get(0);
        assertTrue(baseEval.isBaseline());
        assertEquals("succeeded", store.baselineByKey(loraEval.baselineKey()).orElseThrow().status());

        JsonNode cmp = JSON.readTree(given().auth().oauth2("key-acme").get("/v1/comparisons/" + loraJob).then()
                .statusCode(200).body("baseline.status", equalTo("succeeded")).extract().asString());
        JsonNode c = cmp.path("comparison");
        assertEquals(baselineJob, c.path("baseline_job_id").asText());
        assertEquals(expectedLora.accuracy() - expectedBase.accuracy(), c.path("delta").path("accuracy").asDouble(), 1e-12);
        if (expectedBase.accuracy() > 0) {
            assertEquals(100 * expectedLora.accuracy() / expectedBase.accuracy(),
                    c.path("retention_percent").path("accuracy").asDouble(), 1e-9);
        }
        assertEquals(546.0 / 2000, c.path("ratios").path("trainable_parameter_ratio").asDouble(), 1e-12);
        assertEquals(3.0 / 12.0, c.path("ratios").path("train_seconds_ratio").asDouble(), 1e-12);
        assertEquals(900.0 / 300.0, c.path("ratios").path("tokens_per_second_ratio").asDouble(), 1e-12);
        assertEquals(600.0 / 900.0, c.path("ratios").path("peak_memory_ratio").asDouble(), 1e-12);
        assertEquals(lora.path("bytes").asDouble() / full.path("bytes").asDouble(),
                c.path("ratios").path("bytes_ratio").asDouble(), 1e-12);

        // tenants are isolated: another tenant's key sees nothing of acme's
        given().auth().oauth2("key-globex").get("/v1/comparisons/" + loraJob).then().statusCode(404);
        given().auth().oauth2("key-globex").get("/v1/evaluations/" + loraEval.id()).then().statusCode(404);
        given().get("/v1/evaluations?job_id=" + loraJob).then().statusCode(401);
        given().auth().oauth2("key-acme").get("/v1/evaluations?job_id=" + loraJob).then().statusCode(200)
                .body("data.size()", equalTo(1)).body("data[0].status", equalTo("succeeded"));

        // leaderboard: both, best accuracy first
        JsonNode board = JSON.readTree(given().auth().oauth2("key-acme")
                .get("/v1/leaderboard?model=" + modelId + "&training_file=" + trainId).then().statusCode(200)
                .extract().asString());
        assertEquals(2, board.path("data").size());
        assertTrue(board.path("data").get(0).path("accuracy").asDouble() >= board.path("data").get(1).path("accuracy").asDouble());
        assertEquals(Math.max(expectedLora.accuracy(), expectedBase.accuracy()),
                board.path("data").get(0).path("accuracy").asDouble(), 1e-12);

        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("foundry_eval_score{job_id=\"" + loraJob + "\",metric=\"accuracy\"}"))
                .body(containsString("foundry_eval_delta{job_id=\"" + loraJob + "\",metric=\"accuracy\"}"));

        // serving: the adapter's predictions over REST equal peft-engine's on a fresh load
        List<String> inputs = List.of("the movie was great", "awful food", "a dog sat on the mat");
        float[][] expected = predictDirectly(backboneDir, loraDir, inputs);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", modelId);
        body.put("adapter", lora.path("id").asText());
        body.put("inputs", inputs);
        JsonNode answer = JSON.readTree(given().auth().oauth2("key-acme").contentType(ContentType.JSON).body(body)
                .post("/v1/predictions").then().statusCode(200).extract().asString());
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode p = answer.path("data").get(i);
            assertEquals(expected[i][0], p.path("scores").path("neg").asDouble(), TOLERANCE);
            assertEquals(expected[i][1], p.path("scores").path("pos").asDouble(), TOLERANCE);
            assertEquals(expected[i][1] > expected[i][0] ? "pos" : "neg", p.path("label").asText());
        }
        given().auth().oauth2("key-globex").contentType(ContentType.JSON).body(body).post("/v1/predictions")
                .then().statusCode(404);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static void awaitReady() {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200));
    }

    private static ObjectNode spec(String model, String train, String valid, String method) {
        ObjectNode s = JSON.createObjectNode();
        s.put("model", model).put("task", "classification").put("training_file", train).put("validation_file", valid);
        s.putObject("method").put("type", method);
        s.putObject("hyperparameters").put("epochs", 2).put("batch_size", 8).put("learning_rate", 5e-3)
                .put("max_seq_length", TinyModels.MAX_SEQ);
        s.put("seed", 7);
        s.putObject("metadata");
        return s;
    }

    private KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));
    }

    private static void sendRequested(KafkaProducer<String, String> kafka, String jobId, ObjectNode spec) throws Exception {
        ObjectNode m = JSON.createObjectNode();
        m.put("job_id", jobId).put("tenant", "acme").put("attempt", 1).putNull("resume_from");
        m.set("spec", spec);
        kafka.send(new ProducerRecord<>(Topics.JOBS_REQUESTED, jobId, m.toString())).get();
    }

    private static void sendStatus(KafkaProducer<String, String> kafka, String jobId, long seq, String status,
                                   Map<String, Object> data) throws Exception {
        ObjectNode m = JSON.createObjectNode();
        m.put("job_id", jobId).put("seq", seq).put("type", "status").put("status", status)
                .put("at", Instant.now().toString());
        m.set("data", JSON.valueToTree(data));
        kafka.send(new ProducerRecord<>(Topics.JOBS_EVENTS, jobId, m.toString())).get();
    }

    private static Path writeJsonl(Path file, List<Example> examples) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Example e : examples) {
            lines.add(JSON.createObjectNode().put("text", e.text()).put("label", e.label()).toString());
        }
        return Files.write(file, lines);
    }

    /** {@code POST /v1/models} (multipart: the zipped HF directory and a name) as the tenant. */
    private static String registerModel(Path dir, String name) throws Exception {
        Path zip = ArtifactClient.zipDirectory(dir);
        String boundary = "----evaltest" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + name + "\r\n--"
                + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.zip\"\r\n"
                + "Content-Type: application/zip\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] file = Files.readAllBytes(zip);
        byte[] all = new byte[head.length + file.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(file, 0, all, head.length, file.length);
        System.arraycopy(tail, 0, all, head.length + file.length, tail.length);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(ArtifactStoreProcess.url() + "/v1/models"))
                .header("Authorization", "Bearer key-acme")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(all)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        String id = JSON.readTree(r.body()).path("id").asText();
        assertNotNull(id);
        return id;
    }

    /** peft-engine's own evaluation; a full fine-tune's directory holds its own weights, so the backbone goes unused. */
    private static EvalResult evaluateDirectly(Path backboneDir, Path adapterDir, Path validFile) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             TextTokenizer tok = new TextTokenizer(backboneDir.resolve("tokenizer.json"), TinyModels.MAX_SEQ, 0)) {
            ClassificationModel model = AdapterFiles.load(adapterDir, BertCheckpoint.load(backboneDir, m), m);
            return new ClassificationTrainer(model, tok, TrainingConfig.defaults(1e-3, 7), m)
                    .evaluate(ClassificationData.read(validFile, true));
        }
    }

    private static float[][] predictDirectly(Path backboneDir, Path adapterDir, List<String> inputs) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             TextTokenizer tok = new TextTokenizer(backboneDir.resolve("tokenizer.json"), TinyModels.MAX_SEQ, 0)) {
            ClassificationModel model = AdapterFiles.load(adapterDir, BertCheckpoint.load(backboneDir, m), m);
            return new ClassificationTrainer(model, tok, TrainingConfig.defaults(1e-3, 0), m)
                    .predict(inputs.stream().map(t -> new Example(t, null, null)).toList());
        }
    }
}
