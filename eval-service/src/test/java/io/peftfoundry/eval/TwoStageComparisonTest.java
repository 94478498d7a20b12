package io.peftfoundry.eval;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.engine.job.CausalEvaluation;
import io.peftfoundry.engine.job.CausalTrainingJob;
import io.peftfoundry.engine.job.TrainingJob;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.eval.client.JobApiClient;
import io.peftfoundry.eval.service.CounterpartService;
import io.peftfoundry.eval.service.EvalStore;
import io.peftfoundry.eval.service.JobInfo;
import io.peftfoundry.eval.support.ArtifactStoreProcess;
import io.peftfoundry.eval.support.EvalFixtures;
import io.peftfoundry.eval.support.JobApiStub;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19: a two-stage adapter (continued pretraining, then SFT of the same adapter) gets its SFT-only counterpart
 * run automatically and is compared with it. Real Kafka, PostgreSQL and S3 (devstack), the real artifact-store, real
 * training of the demo decoder pretrained in this repository (LoRA, a few steps); job-api is the stand-in that records
 * submissions, and this test plays the worker (it trains, uploads, and sends the worker's events).
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class TwoStageComparisonTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DEMO_DECODER = Path.of("..", "demo", "decoder", "pretrained");
    private static final int RACERS = 16;

    @Inject
    EvalStore store;
    @Inject
    CounterpartService counterparts;
    @Inject
    JobApiClient jobApi;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final ObjectMapper json = new ObjectMapper();

    /** Domain text for stage 1 and prompt/completion pairs of the same domain for stage 2. */
    private static void writeData(Path dir, String run) throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            text.append(JSON.writeValueAsString(Map.of("text", "Permission is granted to copy, modify and distribute"
                    + " this software, provided that the notice " + i + " is kept with every copy."))).append('\n');
        }
        Files.writeString(dir.resolve("domain.jsonl"), text);
        String[] words = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
        StringBuilder train = new StringBuilder();
        StringBuilder valid = new StringBuilder();
        for (int i = 0; i < 36; i++) {
            String line = JSON.writeValueAsString(Map.of("prompt", "Clause " + i + " permits:",
                    "completion", " " + words[i % 10] + " copies")) + "\n";
            (i % 3 == 0 ? valid : train).append(line);
        }
        // the run id makes the validation file new to artifact-store, so its digest (and every key) is this run's
        valid.append(JSON.writeValueAsString(Map.of("prompt", "Clause " + run + " permits:", "completion", " one copies")))
                .append('\n');
        Files.writeString(dir.resolve("sft-train.jsonl"), train);
        Files.writeString(dir.resolve("sft-valid.jsonl"), valid);
    }

    private ObjectNode spec(String model, String task, String train, String valid, String init, long seed) {
        ObjectNode s = json.createObjectNode();
        s.put("model", model).put("task", task).put("training_file", train);
        if (valid != null) {
            s.put("validation_file", valid);
        }
        s.putObject("method").put("type", "lora").putObject("lora").put("r", 4).put("alpha", 8).put("dropout", 0.0)
                .putArray("target_modules").add("c_attn");
        s.putObject("hyperparameters").put("batch_size", 4).put("learning_rate", 1e-2).put("max_seq_length", 64)
                .put("epochs", 1).put("max_steps", 6).put("warmup_ratio", 0.0).put("eval_every_steps", 0)
                .put("checkpoint_every_steps", 0);
        s.put("seed", seed);
        if (init != null) {
            s.put("init_adapter", init);
        }
        return s;
    }

    private Path train(ObjectNode localSpec, Path out) throws Exception {
        ((CausalTrainingJob) TrainingJob.fromSpecJson(localSpec.toString(), null, null))
                .run(out, null, TrainingListener.NONE, Device.cpu());
        return out.resolve("adapter");
    }

    @Test
    void aTwoStageAdapterGetsOneSftOnlyCounterpartAndIsComparedWithIt() throws Exception {
        Path tmp = Files.createTempDirectory("two-stage-");
        writeData(tmp, run);
        ArtifactClient acme = new ArtifactClient(ArtifactStoreProcess.url(), "key-acme");
        String model = EvalFixtures.registerModel(DEMO_DECODER, "demo-decoder-" + run);
        String trainId = acme.uploadFile(tmp.resolve("sft-train.jsonl"), "fine-tune", "sft").path("id").asText();
        String validId = acme.uploadFile(tmp.resolve("sft-valid.jsonl"), "fine-tune", "sft").path("id").asText();

        // stage 1 (continued pretraining), stage 2 (SFT continuing it), trained here as the worker would
        String local = DEMO_DECODER.toAbsolutePath().toString();
        Path cpt = train(spec(local, "continued_pretraining", tmp.resolve("domain.jsonl").toString(), null, null, 7),
                tmp.resolve("cpt"));
        Path twoStage = train(spec(local, "sft", tmp.resolve("sft-train.jsonl").toString(),
                tmp.resolve("sft-valid.jsonl").toString(), cpt.toString(), 7), tmp.resolve("two-stage"));
        String cptAdapter = acme.uploadAdapter(cpt, Map.of("job_id", "ftjob-cpt-" + run, "base_model", model,
                "method", "lora")).path("id").asText();
        String twoStageAdapter = acme.uploadAdapter(twoStage, Map.of("job_id", "ftjob-2s-" + run, "base_model", model,
                "method", "lora", "parent_adapter", cptAdapter)).path("id").asText();

        String job = "ftjob-2s-" + run;
        String again = "ftjob-2s-again-" + run;     // the same spec and data: shares the counterpart
        String other = "ftjob-2s-seed8-" + run;     // another seed: another counterpart, which will fail
        ObjectNode twoStageSpec = spec(model, "sft", trainId, validId, cptAdapter, 7);
        ObjectNode otherSpec = spec(model, "sft", trainId, validId, cptAdapter, 8);
        try (KafkaProducer<String, String> kafka = EvalFixtures.producer(bootstrap)) {
            EvalFixtures.sendRequested(kafka, job, twoStageSpec);
            EvalFixtures.sendRequested(kafka, again, twoStageSpec);
            EvalFixtures.sendRequested(kafka, other, otherSpec);
            for (String j : List.of(job, again, other)) {
                EvalFixtures.sendStatus(kafka, j, 9, "succeeded", Map.of("adapter", twoStageAdapter,
                        "trainable_parameters", 2048, "total_parameters", 1_336_064));
            }
        }
        // both counterparts are submitted in acme's name: the same spec without init_adapter
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).until(() ->
                sftOnlyPostsFor(job).size() == 1 && sftOnlyPostsFor(other).size() == 1);
        JobApiStub.Submission post = sftOnlyPostsFor(job).get(0);
        JsonNode body = post.body();
        assertEquals("acme", post.onBehalfOf());
        assertFalse(body.has("init_adapter"), "SFT only: no init_adapter");
        assertEquals("sft-only", body.path("suffix").asText());
        assertEquals("true", body.path("metadata").path("foundry_sft_only").asText());
        assertEquals(cptAdapter, body.path("metadata").path("two_stage_init_adapter").asText());
        for (String f : List.of("model", "task", "training_file", "validation_file", "method", "hyperparameters", "seed")) {
            assertEquals(canonical(twoStageSpec.get(f)), canonical(body.get(f)), f + " is the two-stage job's");
        }
        String key = body.path("metadata").path("counterpart_key").asText();
        assertEquals(CounterpartService.idempotencyKey(key), post.idempotencyKey());
        String counterpartJob = store.counterpartByKey(key).orElseThrow().jobId();

        // while it trains the comparison says so, beside the full fine-tune baseline (submitted as before)
        JsonNode waiting = comparison(job);
        assertEquals("waiting_for_counterpart", waiting.path("post_pretraining").path("status").asText());
        assertEquals("running", waiting.path("post_pretraining").path("counterpart").path("status").asText());
        assertEquals(counterpartJob, waiting.path("post_pretraining").path("counterpart").path("job_id").asText());
        assertEquals("continued_pretraining",
                waiting.path("post_pretraining").path("pretraining_stages").get(0).path("task").asText());
        assertEquals("running", waiting.path("baseline").path("status").asText(), "the full baseline is still there");

        // the counterpart runs (trained here on the same files, without stage 1) and succeeds; the other one fails
        Path sftOnly = train(spec(local, "sft", tmp.resolve("sft-train.jsonl").toString(),
                tmp.resolve("sft-valid.jsonl").toString(), null, 7), tmp.resolve("sft-only"));
        String sftOnlyAdapter = acme.uploadAdapter(sftOnly, Map.of("job_id", counterpartJob, "base_model", model,
                "method", "lora")).path("id").asText();
        String otherCounterpartJob = sftOnlyPostsFor(other).get(0).body().path("metadata").path("counterpart_key").asText();
        otherCounterpartJob = store.counterpartByKey(otherCounterpartJob).orElseThrow().jobId();
        try (KafkaProducer<String, String> kafka = EvalFixtures.producer(bootstrap)) {
            EvalFixtures.sendRequested(kafka, counterpartJob, (ObjectNode) body);
            EvalFixtures.sendStatus(kafka, counterpartJob, 9, "succeeded", Map.of("adapter", sftOnlyAdapter));
            EvalFixtures.sendStatus(kafka, otherCounterpartJob, 5, "failed",
                    Map.of("error", Map.of("code", "training_error", "message", "loss became NaN at step 3")));
        }
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).until(() ->
                "compared".equals(comparison(job).path("post_pretraining").path("status").asText())
                        && "counterpart_failed".equals(comparison(other).path("post_pretraining").path("status").asText()));

        // created once: the second two-stage job (handled before the counterpart's events) submitted nothing
        assertEquals(1, store.countCounterparts(key));
        assertEquals(1, JobApiStub.SUBMISSIONS.stream()
                .filter(s -> key.equals(s.body().path("metadata").path("counterpart_key").asText())).count());
        assertEquals("compared", comparison(again).path("post_pretraining").path("status").asText());

        // the block: each side's scores are peft-engine's on the validation file, the deltas their difference
        CausalEvaluation.Scored expectTwo = CausalEvaluation.score(DEMO_DECODER, twoStage, tmp.resolve("sft-valid.jsonl"),
                "sft", 64, CausalTrainingJob.EXACT_MATCH_LIMIT, Device.cpu());
        CausalEvaluation.Scored expectOne = CausalEvaluation.score(DEMO_DECODER, sftOnly, tmp.resolve("sft-valid.jsonl"),
                "sft", 64, CausalTrainingJob.EXACT_MATCH_LIMIT, Device.cpu());
        JsonNode c = comparison(job);
        JsonNode block = c.path("post_pretraining");
        assertEquals("succeeded", block.path("counterpart").path("status").asText());
        assertEquals(counterpartJob, block.path("sft_only_job_id").asText());
        for (String m : List.of("loss", "perplexity", "token_accuracy", "exact_match")) {
            double a = expectTwo.metrics().path(m).asDouble();
            double b = expectOne.metrics().path(m).asDouble();
            assertEquals(a, block.path("two_stage").path(m).asDouble(), 1e-9, m);
            assertEquals(b, block.path("sft_only").path(m).asDouble(), 1e-9, m);
            assertEquals(a - b, block.path("delta").path(m).asDouble(), 1e-9, m);
            JsonNode ci = block.path("delta_ci95").path(m);
            assertTrue(ci.path("low").asDouble() <= ci.path("high").asDouble(), m + " interval " + ci);
            assertTrue(block.path("verdict").has(m), m);
        }
        assertNotEquals(block.path("two_stage").path("loss").asDouble(), block.path("sft_only").path("loss").asDouble(),
                "stage 1 changed the adapter the SFT started from");
        assertEquals(expectTwo.nll().length, block.path("examples").asInt());
        assertEquals(13, block.path("exact_match_examples").asInt());

        // the base model (no adapter) on the same validation set is the causal reference
        JsonNode base = JSON.readTree(CausalEvaluation.run(DEMO_DECODER, null, tmp.resolve("sft-valid.jsonl"), "sft", 64,
                CausalTrainingJob.EXACT_MATCH_LIMIT, Device.cpu()).toString());
        EvalStore.Evaluation evaluation = store.evaluationsOfJob("acme", job).get(0);
        @SuppressWarnings("unchecked")
        Map<String, Object> reference = (Map<String, Object>) evaluation.metrics().get("reference");
        assertEquals(base.path("perplexity").asDouble(), ((Number) reference.get("base_perplexity")).doubleValue(), 1e-9);
        assertEquals(base.path("token_accuracy").asDouble(), ((Number) reference.get("base_token_accuracy")).doubleValue(),
                1e-12);
        assertEquals(base.path("exact_match").asDouble(), ((Number) reference.get("base_exact_match")).doubleValue(), 1e-12);

        // a failed counterpart is shown as failed, with the job's reason; the other tenant sees none of it
        JsonNode failed = comparison(other).path("post_pretraining");
        assertEquals("failed", failed.path("counterpart").path("status").asText());
        assertTrue(failed.path("counterpart").path("error").asText().contains("loss became NaN at step 3"),
                failed.toString());
        assertTrue(failed.path("delta").isMissingNode() || failed.path("delta").isNull(), failed.toString());
        given().auth().oauth2("key-globex").get("/v1/comparisons/" + job).then().statusCode(404);
        // the evaluation list marks the two-stage adapter
        given().auth().oauth2("key-acme").get("/v1/evaluations?job_id=" + job).then().statusCode(200)
                .body("data[0].two_stage", org.hamcrest.Matchers.equalTo(true));
        given().auth().oauth2("key-acme").get("/v1/evaluations?job_id=" + counterpartJob).then().statusCode(200)
                .body("data[0].two_stage", org.hamcrest.Matchers.equalTo(false));
    }

    /**
     * Many completions of one two-stage spec race (threads released together, job-api answering slowly): one row, one
     * POST. Tenant globex's identical job gets a counterpart of its own, submitted in its name.
     */
    @Test
    void concurrentTwoStageCompletionsSubmitOneCounterpartAndEachTenantGetsItsOwn() throws Exception {
        ObjectNode spec = spec("demo-decoder", "sft", "file-t-" + run, "file-v-" + run, "adapter-cpt-" + run, 7);
        String td = "sha256:t-" + run;
        String vd = "sha256:v-" + run;
        String key = CounterpartService.keyOf(new JobInfo("x", "acme", spec), td, vd);
        int before = JobApiStub.SUBMISSIONS.size();
        ExecutorService pool = Executors.newFixedThreadPool(RACERS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < RACERS; i++) {
            // other init adapters (another stage 1) and job ids: still one SFT-only run
            ObjectNode s = spec.deepCopy().put("init_adapter", "adapter-cpt-" + run + "-" + i);
            JobInfo job = new JobInfo("ftjob-race-" + run + "-" + i, "acme", s);
            assertEquals(key, CounterpartService.keyOf(job, td, vd));
            results.add(pool.submit(() -> {
                go.await();
                return counterparts.ensureCounterpart(job, key, jobApi);
            }));
        }
        go.countDown();
        int winners = 0;
        for (Future<Boolean> f : results) {
            winners += f.get() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(1, winners);
        assertEquals(1, store.countCounterparts(key));
        List<JobApiStub.Submission> posts = JobApiStub.SUBMISSIONS.subList(before, JobApiStub.SUBMISSIONS.size()).stream()
                .filter(s -> key.equals(s.body().path("metadata").path("counterpart_key").asText())).toList();
        assertEquals(1, posts.size());
        assertEquals("acme", posts.get(0).onBehalfOf());
        assertEquals("running", store.counterpartByKey(key).orElseThrow().status());

        JobInfo globex = new JobInfo("ftjob-globex-" + run, "globex", spec);
        String globexKey = CounterpartService.keyOf(globex, td, vd);
        assertNotEquals(key, globexKey, "a counterpart is never shared across tenants");
        assertTrue(counterparts.ensureCounterpart(globex, globexKey, jobApi));
        List<JobApiStub.Submission> globexPosts = JobApiStub.SUBMISSIONS.stream()
                .filter(s -> globexKey.equals(s.body().path("metadata").path("counterpart_key").asText())).toList();
        assertEquals(1, globexPosts.size());
        assertEquals("globex", globexPosts.get(0).onBehalfOf());
        assertEquals("globex", store.counterpartByKey(globexKey).orElseThrow().tenant());

        // a different SFT spec (another learning rate) is another counterpart
        ObjectNode otherLr = spec.deepCopy();
        ((ObjectNode) otherLr.get("hyperparameters")).put("learning_rate", 5e-3);
        assertNotEquals(key, CounterpartService.keyOf(new JobInfo("y", "acme", otherLr), td, vd));
    }

    /** JSON with object keys sorted (PostgreSQL's jsonb, where specs are kept, does not keep their order). */
    private static String canonical(JsonNode node) throws Exception {
        ObjectMapper sorted = new ObjectMapper().configure(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
        return sorted.writeValueAsString(sorted.convertValue(node, Object.class));
    }

    private static List<JobApiStub.Submission> sftOnlyPostsFor(String jobId) {
        return JobApiStub.SUBMISSIONS.stream()
                .filter(s -> jobId.equals(s.body().path("metadata").path("sft_only_for").asText())).toList();
    }

    private static JsonNode comparison(String jobId) throws Exception {
        String body = given().auth().oauth2("key-acme").get("/v1/comparisons/" + jobId).then().extract().asString();
        return JSON.readTree(body);
    }
}
