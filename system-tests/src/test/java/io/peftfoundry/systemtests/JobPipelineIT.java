package io.peftfoundry.systemtests;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job pipeline end to end on devstack: job-api, artifact-store (resolving keys through job-api) and two
 * trainer-workers as processes. The tests act as a user does: a tenant and its key from the admin key, datasets and the
 * model uploaded to artifact-store with the tenant's key, jobs submitted, watched (polling and SSE) and controlled
 * (cancel, pause, resume) through job-api's REST API, the adapter downloaded from artifact-store. What the workers
 * publish on {@code foundry.jobs.events} is also read directly (step-level detail, which worker runs a job); the
 * dead-letter test stays at the Kafka level (a request no REST call can produce).
 *
 * <p>The backbone is a tiny random BERT (2 layers, hidden 32) with a vocabulary of the smoke set's words; the data is
 * {@code data/wordnet-supersense/smoke} (160 training lines, 80 validation lines, 10 labels). One step is one batch of
 * 16, so an epoch is ceil(160 / 16) = 10 steps.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobPipelineIT {

    static final ObjectMapper JSON = ContractsJson.newMapper();
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);
    private static final int STEPS_PER_EPOCH = (160 + 15) / 16;
    static final String TENANT = "admin"; // the admin key's tenant: jobs sent on Kafka directly (DLQ test, benchmark)

    private static final String ADMIN_KEY = "sys-admin-" + UUID.randomUUID();
    static Path work;
    private static Path backboneDir;
    private static Path validationPath;
    static ServiceProcess artifactStore;
    static ServiceProcess jobApi;
    static JobApi api;
    private static JobApi otherTenantApi;
    private static final Map<String, ServiceProcess> workers = new LinkedHashMap<>();
    static EventWatcher events;
    private static KafkaProducer<String, String> producer;
    static ArtifactClient artifacts;
    static String modelId;
    static String trainingFileId;
    static String validationFileId;
    private static String bootstrap;
    private static String tenantKey;
    static Map<String, String> commonEnv;
    private static String succeededJobId;

    static String setting(String name, String def) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            v = System.getenv(name);
        }
        return v == null || v.isBlank() ? def : v;
    }

    private static boolean started;

    @BeforeAll
    static synchronized void startPlatform() throws Exception {
        if (started) {
            return;
        }
        started = true;
        new DevStackTestResource().start();
        Path repo = ServiceProcess.repoRoot();
        work = repo.resolve("system-tests/target/system-tests");
        Files.createDirectories(work);
        String host = setting("FOUNDRY_HOST", "127.0.0.1");
        bootstrap = host + ":" + setting("FOUNDRY_KAFKA_PORT", "9092");

        Map<String, String> common = new LinkedHashMap<>();
        for (String v : List.of("FOUNDRY_HOST", "FOUNDRY_KAFKA_PORT", "FOUNDRY_PG_PORT", "FOUNDRY_S3_PORT",
                "FOUNDRY_PG_PASSWORD", "FOUNDRY_S3_ACCESS_KEY", "FOUNDRY_S3_SECRET_KEY", "FOUNDRY_S3_BUCKET")) {
            String value = setting(v, null);
            if (value != null) {
                common.put(v, value);
            }
        }
        common.put("FOUNDRY_ADMIN_KEY", ADMIN_KEY);
        // at load 50+ on two cores a new PostgreSQL connection can take longer than the 5 s default at start-up (job-api
        // once failed its Flyway migration so)
        common.put("QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT", "60S");
        commonEnv = common;

        // both ports are chosen before either starts: each service is configured with the other's URL
        Map<String, String> asEnv = new LinkedHashMap<>(common);
        asEnv.put("FOUNDRY_IMPORT_BUILTIN_MODELS", "false");
        asEnv.put("FOUNDRY_DATA_DIR", work.resolve("artifact-store").toString());
        artifactStore = new ServiceProcess("artifact-store", "artifact-store", "FOUNDRY_ARTIFACT_STORE_PORT", asEnv,
                List.of("-Xmx512m"));
        Map<String, String> jaEnv = new LinkedHashMap<>(common);
        jaEnv.put("FOUNDRY_ARTIFACT_STORE_URL", artifactStore.baseUrl());
        jobApi = new ServiceProcess("job-api", "job-api", "FOUNDRY_JOB_API_PORT", jaEnv, List.of("-Xmx384m"));
        artifactStore.env.put("FOUNDRY_JOB_API_URL", jobApi.baseUrl());
        jobApi.start();
        artifactStore.start();

        for (String name : List.of("worker-a", "worker-b")) {
            workers.put(name, newWorker(name, common));
            workers.get(name).start();
        }
        jobApi.awaitReady(Duration.ofMinutes(8)); // minutes on a machine at load 60+
        artifactStore.awaitReady(Duration.ofMinutes(3));
        for (ServiceProcess w : workers.values()) {
            w.awaitReady(Duration.ofMinutes(3));
        }

        events = new EventWatcher(bootstrap);
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));

        JobApi admin = new JobApi(jobApi.baseUrl(), ADMIN_KEY);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        api = new JobApi(jobApi.baseUrl(), admin.createTenantKey("sys-" + suffix));
        otherTenantApi = new JobApi(jobApi.baseUrl(), admin.createTenantKey("sys-other-" + suffix));
        tenantKey = api.key;
        artifacts = new ArtifactClient(artifactStore.baseUrl(), tenantKey);
        Path smoke = repo.resolve("data/wordnet-supersense/smoke");
        Path trainingPath = smoke.resolve("train.jsonl");
        validationPath = smoke.resolve("validation.jsonl");
        trainingFileId = artifacts.uploadFile(trainingPath, "fine-tune", "classification").path("id").asText();
        validationFileId = artifacts.uploadFile(validationPath, "fine-tune", "classification").path("id").asText();
        backboneDir = TinyBackbone.write(work.resolve("tiny-bert"), List.of(trainingPath, validationPath), 5);
        modelId = registerModel(backboneDir, "tiny-bert-" + UUID.randomUUID().toString().substring(0, 8));
    }

    /** Memory the tests' workers offer to a job (placement compares it with each job's estimate). */
    static final String WORKER_MEMORY = setting("foundry.worker.memory", "1536M");

    private static ServiceProcess newWorker(String name, Map<String, String> common) {
        return newWorker(name, common, WORKER_MEMORY);
    }

    static ServiceProcess newWorker(String name, Map<String, String> common, String memory) {
        Map<String, String> env = new LinkedHashMap<>(common);
        env.put("FOUNDRY_WORKER_ID", name);
        env.put("FOUNDRY_WORKER_MEMORY", memory);
        env.put("FOUNDRY_ARTIFACT_STORE_URL", artifactStore.baseUrl());
        env.put("FOUNDRY_DATA_DIR", work.resolve(name).toString());
        env.put("FOUNDRY_DEVICE", "cpu");
        // short lease and session: a killed worker's job moves on within seconds
        env.put("FOUNDRY_WORKER_LEASE_TTL", "6s");
        env.put("FOUNDRY_WORKER_LEASE_RENEW_EVERY", "1s");
        env.put("FOUNDRY_WORKER_SESSION_TIMEOUT_MS", "6000");
        // at load 50 on two cores a new PostgreSQL connection can take longer than the 5 s default at start-up
        env.put("QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT", "60S");
        return new ServiceProcess(name, "trainer-worker", "FOUNDRY_TRAINER_WORKER_PORT", env,
                List.of("-Xmx512m", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"));
    }

    @AfterAll
    static synchronized void stopPlatform() throws Exception {
        started = false;
        if (events != null) {
            events.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        workers.values().forEach(ServiceProcess::stop);
        workers.clear();
        if (artifactStore != null) {
            artifactStore.stop();
        }
        if (jobApi != null) {
            jobApi.stop();
        }
    }

    /** {@code POST /v1/models}: the backbone directory as a zip of its Hugging Face layout. */
    static String registerModel(Path dir, String name) throws Exception {
        return registerModel(dir, name, tenantKey);
    }

    /** As {@link #registerModel(Path, String)}, owned by the tenant of {@code key}. */
    static String registerModel(Path dir, String name, String key) throws Exception {
        Path zip = ArtifactClient.zipDirectory(dir);
        String boundary = "----system-tests-" + UUID.randomUUID();
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + name + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.zip\"\r\n"
                + "Content-Type: application/zip\r\n\r\n";
        HttpRequest req = HttpRequest.newBuilder(URI.create(artifactStore.baseUrl() + "/v1/models"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(
                        HttpRequest.BodyPublishers.ofString(head, StandardCharsets.UTF_8),
                        HttpRequest.BodyPublishers.ofFile(zip),
                        HttpRequest.BodyPublishers.ofString("\r\n--" + boundary + "--\r\n", StandardCharsets.UTF_8)))
                .build();
        HttpResponse<String> resp = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        Files.deleteIfExists(zip);
        assertEquals(201, resp.statusCode(), "POST /v1/models: " + resp.body());
        return JSON.readTree(resp.body()).path("id").asText();
    }

    /** The job spec as a user writes it: LoRA defaults, one batch of 16 per step, no periodic evaluation. */
    private static String specJson(int epochs, int checkpointEvery) {
        return ("""
                {"model": "%s", "task": "classification", "training_file": "%s", "validation_file": "%s",
                 "method": {"type": "lora"},
                 "hyperparameters": {"epochs": %d, "batch_size": 16, "learning_rate": 0.01, "max_seq_length": 32,
                                     "eval_every_steps": 0, "checkpoint_every_steps": %d},
                 "seed": 7}""").formatted(modelId, trainingFileId, validationFileId, epochs, checkpointEvery);
    }

    /** {@code POST /v1/fine_tuning/jobs} → the job's id (201, queued). */
    static String submit(String specJson) throws Exception {
        return submit(api, specJson);
    }

    /** {@code POST /v1/fine_tuning/jobs} with the given tenant's key → the job's id (201, queued). */
    static String submit(JobApi as, String specJson) throws Exception {
        HttpResponse<String> r = as.createJob(specJson, UUID.randomUUID().toString());
        assertEquals(201, r.statusCode(), "POST /v1/fine_tuning/jobs: " + r.body());
        JsonNode job = JSON.readTree(r.body());
        assertEquals("queued", job.path("status").asText(), r.body());
        return job.path("id").asText();
    }

    static void send(String topic, String key, String value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }

    static long longOf(JobEvent e, String field) {
        Object v = e.data().get(field);
        assertNotNull(v, field + " missing in " + e);
        return ((Number) v).longValue();
    }

    private static int attemptOf(JobEvent e) {
        Object v = e.data() == null ? null : e.data().get("attempt");
        return v == null ? -1 : ((Number) v).intValue();
    }

    @Test
    @Order(1)
    void happyPathAdapterPredictsAsTheWorkersFinalEval() throws Exception {
        int epochs = 3;
        String jobId = submit(specJson(epochs, 10));
        // job-api's live stream replays from the first event and closes after the terminal status
        List<JsonNode> streamed = api.streamEvents(jobId, JOB_TIMEOUT);
        List<String> kinds = streamed.stream().map(e -> e.path("type").asText()
                + (e.path("type").asText().equals("status") ? ":" + e.path("status").asText() : "")).toList();
        int runningAt = kinds.indexOf("status:running");
        int metricsAt = kinds.indexOf("metrics");
        int succeededAt = kinds.indexOf("status:succeeded");
        assertTrue(runningAt >= 0 && metricsAt > runningAt && succeededAt > metricsAt,
                "running → metrics → succeeded over SSE: " + kinds);
        assertEquals(kinds.size() - 1, succeededAt, "the stream ends with succeeded: " + kinds);
        for (int i = 1; i < streamed.size(); i++) {
            assertTrue(streamed.get(i).path("seq").asLong() > streamed.get(i - 1).path("seq").asLong(),
                    "SSE seq increases: " + kinds);
        }

        long total = (long) epochs * STEPS_PER_EPOCH;
        JsonNode job = api.awaitStatus(jobId, "succeeded", JOB_TIMEOUT);
        succeededJobId = jobId;
        assertEquals(1, job.path("attempt").asInt(), job.toString());
        assertEquals(total, job.path("progress").path("step").asLong(), job.toString());
        assertEquals(total, job.path("progress").path("total_steps").asLong(), job.toString());

        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("succeeded", end.status().wire(), events.summary(jobId));
        assertEquals(total, longOf(end, "total_steps"));
        assertEquals(total, longOf(end, "step"));

        List<JobEvent> all = events.events(jobId);
        JobEvent running = all.get(0);
        assertEquals(JobEventType.STATUS, running.type(), "the first event is the running status");
        assertEquals("running", running.status().wire());
        assertEquals(1, attemptOf(running));
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).seq() > all.get(i - 1).seq(), "seq increases: " + events.summary(jobId));
        }
        // a metrics event at least every 10 steps: at 10, 20, 30 (and at step 1)
        List<Long> metricSteps = all.stream().filter(e -> e.type() == JobEventType.METRICS && e.data().containsKey("loss"))
                .map(e -> longOf(e, "step")).toList();
        for (long s = 10; s <= total; s += 10) {
            assertTrue(metricSteps.contains(s), "metrics at step " + s + ": " + metricSteps);
        }
        JobEvent someMetrics = all.stream().filter(e -> e.type() == JobEventType.METRICS && e.data().containsKey("loss"))
                .findFirst().orElseThrow();
        for (String f : List.of("step", "total_steps", "epoch", "loss", "learning_rate", "tokens_per_second",
                "eta_seconds")) {
            assertTrue(someMetrics.data().containsKey(f), f + " in " + someMetrics.data());
        }
        // checkpoints every 10 steps (= every epoch here): 10, 20, 30
        List<Long> checkpointSteps = all.stream().filter(e -> e.type() == JobEventType.CHECKPOINT)
                .map(e -> longOf(e, "step")).toList();
        assertEquals(List.of(10L, 20L, 30L), checkpointSteps);

        String adapterId = job.path("adapter").asText(null);
        assertNotNull(adapterId, job.toString());
        assertEquals(end.data().get("adapter"), adapterId, "job-api's adapter is the worker's");
        JsonNode meta = artifacts.getAdapter(adapterId);
        assertEquals(jobId, meta.path("lineage").path("job_id").asText(), meta.toString());

        @SuppressWarnings("unchecked")
        Map<String, Object> workerEval = (Map<String, Object>) end.data().get("eval");
        assertNotNull(workerEval, "final eval in " + end.data());

        // load the downloaded adapter on the same backbone and evaluate the validation set here
        Path adapterDir = artifacts.downloadAdapter(adapterId, work.resolve("client-cache"),
                work.resolve("adapter-" + jobId));
        try (NDManager m = NDManager.newBaseManager();
             TextTokenizer tok = new TextTokenizer(backboneDir.resolve("tokenizer.json"), 32, 0)) {
            BertModel backbone = BertCheckpoint.load(backboneDir, m);
            ClassificationModel model = AdapterFiles.load(adapterDir, backbone, m);
            TrainingConfig cfg = new TrainingConfig(1, 16, 0.01, 32, 0, 0, 1, null, 0, 0, false, 1.0, null, 7);
            EvalResult here = new ClassificationTrainer(model, tok, cfg, m)
                    .evaluate(ClassificationData.read(validationPath, true));
            // the same weights on the same inputs: the same predictions, so the same confusion matrix and accuracy;
            // the loss may differ in the last float bits (summation order), hence the tolerance
            assertEquals(((Number) workerEval.get("accuracy")).doubleValue(), here.accuracy(), 1e-12);
            assertEquals(((Number) workerEval.get("loss")).doubleValue(), here.loss(), 1e-4);
            @SuppressWarnings("unchecked")
            List<List<Number>> confusion = (List<List<Number>>) workerEval.get("confusion_matrix");
            for (int i = 0; i < confusion.size(); i++) {
                long[] row = confusion.get(i).stream().mapToLong(Number::longValue).toArray();
                assertArrayEquals(row, here.confusion()[i], "confusion row " + i);
            }
            assertEquals(80, here.examples());
        }
    }

    @Test
    @Order(2)
    void anotherTenantSeesNeitherTheJobNorItsAdapter() throws Exception {
        assertNotNull(succeededJobId, "needs the happy path's job");
        String jobId = succeededJobId;
        JsonNode finished = api.job(jobId);
        HttpResponse<String> r = otherTenantApi.get("/v1/fine_tuning/jobs/" + jobId);
        assertEquals(404, r.statusCode(), r.body());
        assertEquals(404, otherTenantApi.get("/v1/fine_tuning/jobs/" + jobId + "/events").statusCode());
        HttpResponse<String> cancel = otherTenantApi.post("/v1/fine_tuning/jobs/" + jobId + "/cancel", null);
        assertEquals(404, cancel.statusCode(), cancel.body());
        HttpResponse<String> list = otherTenantApi.get("/v1/fine_tuning/jobs?limit=100");
        assertEquals(200, list.statusCode(), list.body());
        assertFalse(list.body().contains(jobId), list.body());
        // artifact-store resolves the other tenant's key through job-api's whoami: the adapter is not theirs
        HttpResponse<String> adapter = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        artifactStore.baseUrl() + "/v1/adapters/" + finished.path("adapter").asText()))
                .header("Authorization", "Bearer " + otherTenantApi.key).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, adapter.statusCode(), adapter.body());
    }

    @Test
    @Order(3)
    void cancelStopsTheJobWithinAStep() throws Exception {
        int epochs = 200;
        String jobId = submit(specJson(epochs, 1000));
        api.awaitJob(jobId, j -> j.path("progress").path("step").asLong() > 0, JOB_TIMEOUT, "a first step");
        api.control(jobId, "cancel");
        JsonNode job = api.awaitStatus(jobId, "cancelled", JOB_TIMEOUT);
        assertTrue(job.path("progress").path("step").asLong() < (long) epochs * STEPS_PER_EPOCH, job.toString());
        assertTrue(job.path("adapter").isNull(), job.toString());
        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("cancelled", end.status().wire(), events.summary(jobId));
        assertTrue(longOf(end, "step") < (long) epochs * STEPS_PER_EPOCH);
        // a finished job cannot be cancelled again
        assertEquals(409, api.post("/v1/fine_tuning/jobs/" + jobId + "/cancel", null).statusCode());
        assertTrue(events.events(jobId).stream().noneMatch(e -> e.status() != null
                && e.status().wire().equals("succeeded")));
    }

    @Test
    @Order(4)
    void pauseWritesACheckpointAndResumeContinuesFromIt() throws Exception {
        // 20 epochs = 200 steps: long enough to pause within, short enough to finish after the resume
        int epochs = 20;
        String jobId = submit(specJson(epochs, 1000));
        api.awaitJob(jobId, j -> j.path("progress").path("step").asLong() > 0, JOB_TIMEOUT, "a first step");
        api.control(jobId, "pause");
        JsonNode pausedJob = api.awaitStatus(jobId, "paused", JOB_TIMEOUT);
        JobEvent paused = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("paused", paused.status().wire(), events.summary(jobId));
        String checkpointId = (String) paused.data().get("checkpoint_id");
        assertNotNull(checkpointId, "paused carries the checkpoint: " + paused.data());
        assertEquals(checkpointId, pausedJob.path("checkpoint").asText(), pausedJob.toString());
        long pausedAt = longOf(paused, "step");
        assertTrue(pausedAt > 0 && pausedAt < (long) epochs * STEPS_PER_EPOCH);

        // resume: job-api queues attempt 2 from the pause checkpoint
        JsonNode resumed = api.control(jobId, "resume");
        assertEquals(2, resumed.path("attempt").asInt(), resumed.toString());
        JobEvent resumedMetrics = events.await(jobId, e -> e.type() == JobEventType.METRICS && attemptOf(e) == 2
                && e.data().containsKey("loss"), JOB_TIMEOUT, "metrics of attempt 2");
        assertEquals(pausedAt + 1, longOf(resumedMetrics, "step"), "the resumed run's first step follows the pause");
        assertTrue(events.events(jobId).stream().anyMatch(e -> e.type() == JobEventType.MESSAGE
                && String.valueOf(e.data().get("message")).contains("resumes from checkpoint " + checkpointId)));
        JsonNode job = api.awaitJob(jobId, j -> !List.of("queued", "running").contains(j.path("status").asText()),
                JOB_TIMEOUT, "the end of attempt 2");
        assertEquals("succeeded", job.path("status").asText(), events.summary(jobId));
        assertEquals(2, job.path("attempt").asInt(), job.toString());
        assertEquals((long) epochs * STEPS_PER_EPOCH, job.path("progress").path("step").asLong(), job.toString());
        assertFalse(job.path("adapter").isNull(), job.toString());
    }

    @Test
    @Order(5)
    void unreadableRequestGoesToTheDeadLetterTopicAndFailsItsJob() throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID();
        send(Topics.JOBS_REQUESTED, jobId, "{\"job_id\": \"" + jobId + "\", \"attempt\": \"one\"");
        JobEvent failed = events.awaitStatus(jobId, "failed", JOB_TIMEOUT);
        @SuppressWarnings("unchecked")
        Map<String, Object> error = (Map<String, Object>) failed.data().get("error");
        assertEquals("invalid_request", error.get("code"));

        try (KafkaConsumer<String, String> dlq = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "system-tests-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            dlq.subscribe(List.of(Topics.dlq(Topics.JOBS_REQUESTED)));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : dlq.poll(Duration.ofMillis(500))) {
                    if (jobId.equals(r.key())) {
                        Header reason = r.headers().lastHeader("dead-letter-reason");
                        assertNotNull(reason, "reason header");
                        assertFalse(new String(reason.value(), StandardCharsets.UTF_8).isBlank());
                        return;
                    }
                }
            }
        }
        throw new AssertionError("the request of " + jobId + " did not reach " + Topics.dlq(Topics.JOBS_REQUESTED));
    }

    @Test
    @Order(6)
    void killedWorkerJobIsResumedFromItsCheckpointByAnother() throws Exception {
        int epochs = 12;
        String jobId = submit(specJson(epochs, 10));
        JobEvent firstCheckpoint = events.await(jobId, e -> e.type() == JobEventType.CHECKPOINT, JOB_TIMEOUT,
                "first checkpoint");
        assertEquals(1, attemptOf(firstCheckpoint));
        JobEvent running = events.awaitStatus(jobId, "running", JOB_TIMEOUT);
        String victim = (String) running.data().get("worker");
        ServiceProcess process = workers.get(victim);
        assertNotNull(process, "running on " + victim);
        process.kill();

        JobEvent resumed = events.await(jobId, e -> e.type() == JobEventType.METRICS && attemptOf(e) >= 2
                && e.data().containsKey("loss"), JOB_TIMEOUT, "metrics of a later attempt");
        List<Long> checkpointsOfAttempt1 = new ArrayList<>();
        for (JobEvent e : events.events(jobId)) {
            if (e.type() == JobEventType.CHECKPOINT && attemptOf(e) == 1) {
                checkpointsOfAttempt1.add(longOf(e, "step"));
            }
        }
        long firstStep = longOf(resumed, "step");
        assertTrue(firstStep > 1, "resumed, not restarted from step 0: first step " + firstStep);
        // checkpoints are written every 10 steps; the newest one uploaded before the kill is where it resumes
        assertEquals(0, (firstStep - 1) % 10,
                "resumed right after a checkpoint of attempt 1 " + checkpointsOfAttempt1 + ": first step " + firstStep);
        assertTrue(firstStep - 1 >= longOf(firstCheckpoint, "step"), "not before the checkpoint seen before the kill");
        assertTrue(events.events(jobId).stream().anyMatch(e -> e.type() == JobEventType.MESSAGE
                        && String.valueOf(e.data().get("message")).contains("previous worker lost")),
                events.summary(jobId));

        JsonNode job = api.awaitJob(jobId, j -> !List.of("queued", "running").contains(j.path("status").asText()),
                JOB_TIMEOUT, "the end of the job");
        assertEquals("succeeded", job.path("status").asText(), events.summary(jobId));
        assertTrue(job.path("attempt").asInt() >= 2, job.toString());
        assertEquals((long) epochs * STEPS_PER_EPOCH, job.path("progress").path("step").asLong(), job.toString());
        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("succeeded", end.status().wire(), events.summary(jobId));
        assertTrue(attemptOf(end) >= 2);
    }

    @Test
    @Order(7)
    void sameIdempotencyKeyAndBodyGiveTheSameJob() throws Exception {
        String body = """
                {"model": "%s", "training_file": "%s", "method": {"type": "lora"},
                 "hyperparameters": {"epochs": 1, "batch_size": 16, "max_seq_length": 32, "max_steps": 1,
                                     "eval_every_steps": 0, "checkpoint_every_steps": 0}}"""
                .formatted(modelId, trainingFileId);
        String key = UUID.randomUUID().toString();
        HttpResponse<String> first = api.createJob(body, key);
        assertEquals(201, first.statusCode(), first.body());
        HttpResponse<String> again = api.createJob(body, key);
        assertEquals(200, again.statusCode(), again.body());
        String id = JSON.readTree(first.body()).path("id").asText();
        assertEquals(id, JSON.readTree(again.body()).path("id").asText());
        HttpResponse<String> otherBody = api.createJob(body.replace("\"max_steps\": 1", "\"max_steps\": 2"), key);
        assertEquals(422, otherBody.statusCode(), otherBody.body());
        api.awaitStatus(id, "succeeded", JOB_TIMEOUT);
    }

    /**
     * The two-stage recipe on a tiny decoder (the committed transformers-built GPT-2 fixture of peft-engine's tests,
     * registered through {@code POST /v1/models}): a continued_pretraining LoRA job, then an sft job whose init_adapter
     * is stage 1's adapter id. Both succeed; stage 2's adapter carries lineage.json with both stages and the SHA-256 of
     * each stage's training file, and artifact-store's lineage names stage 1's adapter as the parent.
     */
    @Test
    @Order(8)
    void twoStageRecipeOnADecoderRecordsBothStages() throws Exception {
        Path fixtures = ServiceProcess.repoRoot().resolve("peft-engine/src/test/resources/decoders");
        Path gpt2 = Files.createDirectories(work.resolve("tiny-gpt2-" + UUID.randomUUID().toString().substring(0, 8)));
        Files.copy(fixtures.resolve("gpt2-tiny/config.json"), gpt2.resolve("config.json"));
        Files.copy(fixtures.resolve("gpt2-tiny/model.safetensors"), gpt2.resolve("model.safetensors"));
        Files.copy(fixtures.resolve("tokenizer.json"), gpt2.resolve("tokenizer.json"));
        String decoder = registerModel(gpt2, gpt2.getFileName().toString());

        Path domain = work.resolve("domain.txt");
        Files.writeString(domain, "The licensee may copy the work.\n\nThe licensor grants a licence.\n\n".repeat(8));
        Path pairs = work.resolve("definitions.jsonl");
        StringBuilder sft = new StringBuilder();
        for (String[] p : new String[][] {{"term: GPL\\n", "a copyleft licence"}, {"term: MIT\\n", "a permissive licence"}}) {
            sft.append("{\"prompt\": \"").append(p[0]).append("\", \"completion\": \"").append(p[1]).append("\"}\n");
        }
        Files.writeString(pairs, sft.toString().repeat(4));
        String domainId = artifacts.uploadFile(domain, "fine-tune", "continued_pretraining").path("id").asText();
        String pairsId = artifacts.uploadFile(pairs, "fine-tune", "sft").path("id").asText();

        String hyper = """
                "hyperparameters": {"max_steps": 3, "batch_size": 4, "max_seq_length": 32, "learning_rate": 0.01,
                                    "eval_every_steps": 0, "checkpoint_every_steps": 0}, "seed": 7""";
        String stage1 = submit("""
                {"model": "%s", "task": "continued_pretraining", "training_file": "%s", "validation_file": "%s",
                 "method": {"type": "lora"}, %s}""".formatted(decoder, domainId, domainId, hyper));
        JsonNode job1 = api.awaitStatus(stage1, "succeeded", JOB_TIMEOUT);
        String adapter1 = job1.path("adapter").asText(null);
        assertNotNull(adapter1, job1.toString());
        JobEvent end1 = events.awaitEnd(stage1, JOB_TIMEOUT);
        @SuppressWarnings("unchecked")
        Map<String, Object> eval1 = (Map<String, Object>) end1.data().get("eval");
        assertNotNull(eval1, "stage 1's final eval: " + end1.data());
        assertTrue(((Number) eval1.get("perplexity")).doubleValue() > 1, eval1.toString());

        String stage2 = submit("""
                {"model": "%s", "task": "sft", "training_file": "%s", "validation_file": "%s", "init_adapter": "%s",
                 "method": {"type": "lora"}, %s}""".formatted(decoder, pairsId, pairsId, adapter1, hyper));
        JsonNode job2 = api.awaitStatus(stage2, "succeeded", JOB_TIMEOUT);
        String adapter2 = job2.path("adapter").asText(null);
        assertNotNull(adapter2, job2.toString());
        assertEquals(adapter1, artifacts.getAdapter(adapter2).path("lineage").path("parent_adapter").asText(),
                artifacts.getAdapter(adapter2).toString());

        Path dir = artifacts.downloadAdapter(adapter2, work.resolve("cache"), work.resolve("stage2-" + adapter2));
        JsonNode cfg = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("CAUSAL_LM", cfg.path("task_type").asText(), cfg.toString());
        JsonNode stages = JSON.readTree(dir.resolve("lineage.json").toFile()).path("stages");
        assertEquals(2, stages.size(), stages.toString());
        assertEquals("continued_pretraining", stages.get(0).path("task").asText());
        assertEquals(domainId, stages.get(0).path("training_file").asText());
        assertEquals(sha256(domain), stages.get(0).path("training_file_sha256").asText());
        assertEquals("sft", stages.get(1).path("task").asText());
        assertEquals(pairsId, stages.get(1).path("training_file").asText());
        assertEquals(sha256(pairs), stages.get(1).path("training_file_sha256").asText());
        assertEquals(adapter1, stages.get(1).path("init_adapter").asText());
    }

    /**
     * Scheduling across workers (workers claim from one queue, see trainer-worker README): with four workers, two long
     * jobs (2,000 steps) and six short ones (1 step, so a run is mostly its fixed start-up and upload) submitted long
     * first: the short jobs share the two free workers and all end while both long jobs still train. Tied to
     * partitions, a short job hashed to a long job's partition waited for it (each of six lands on one of the two
     * long partitions with probability 1/2).
     */
    @Test
    @Order(9)
    void shortJobsNeverWaitBehindLongOnes() throws Exception {
        ensureWorkers(4);
        List<String> longJobs = List.of(submit(stepsSpec(2000)), submit(stepsSpec(2000)));
        List<String> shortJobs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            shortJobs.add(submit(stepsSpec(1)));
        }
        try {
            Instant lastShortEnd = Instant.MIN;
            for (String id : shortJobs) {
                JobEvent end = events.awaitEnd(id, JOB_TIMEOUT);
                assertEquals("succeeded", end.status().wire(), events.summary(id));
                lastShortEnd = end.at().isAfter(lastShortEnd) ? end.at() : lastShortEnd;
            }
            for (String id : longJobs) {
                for (JobEvent e : events.events(id)) {
                    if (e.type() == JobEventType.STATUS && e.status().isTerminal()) {
                        assertTrue(e.at().isAfter(lastShortEnd), "long job " + id + " ended (" + e.at()
                                + ") before the last short job (" + lastShortEnd + ")" + events.summary(id));
                    }
                }
            }
        } finally {
            for (String id : longJobs) {
                api.control(id, "cancel");
            }
        }
        for (String id : longJobs) {
            events.awaitEnd(id, JOB_TIMEOUT);
        }
    }

    /**
     * A worker started while every worker trains takes the queued job: four long jobs hold the four workers, a short job
     * waits at queue position 1, a fifth worker starts, and the short job runs on it and ends while the long ones train.
     */
    @Test
    @Order(10)
    void aWorkerAddedMidRunTakesQueuedWork() throws Exception {
        ensureWorkers(4);
        List<String> longJobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            longJobs.add(submit(stepsSpec(2000)));
        }
        try {
            for (String id : longJobs) {
                events.awaitStatus(id, "running", JOB_TIMEOUT);
            }
            String queued = submit(stepsSpec(1));
            JsonNode waiting = api.job(queued);
            assertEquals("queued", waiting.path("status").asText(), waiting.toString());
            // not necessarily 1: in ./foundry test the earlier modules' tests leave queued jobs of other tenants in
            // the same devstack, and fair share may rank their first jobs ahead of this one
            assertTrue(waiting.path("queue_position").asInt() >= 1, waiting.toString());

            String added = "worker-added-" + UUID.randomUUID().toString().substring(0, 4);
            ServiceProcess worker = newWorker(added, commonEnv);
            workers.put(added, worker);
            worker.start();
            // a JVM start took 2.5 min at load 50 on two cores
            worker.awaitReady(Duration.ofMinutes(8));

            JobEvent running = events.awaitStatus(queued, "running", JOB_TIMEOUT);
            assertEquals(added, running.data().get("worker"), events.summary(queued));
            JobEvent end = events.awaitEnd(queued, JOB_TIMEOUT);
            assertEquals("succeeded", end.status().wire(), events.summary(queued));
            for (String id : longJobs) {
                assertTrue(events.events(id).stream().noneMatch(e -> e.type() == JobEventType.STATUS
                        && e.status().isTerminal()), "long job " + id + " ended first" + events.summary(id));
            }
        } finally {
            for (String id : longJobs) {
                api.control(id, "cancel");
            }
        }
        for (String id : longJobs) {
            events.awaitEnd(id, JOB_TIMEOUT);
        }
    }

    /**
     * Capacity-aware placement with real workers: a worker offering 512 MiB and one offering 1.5 GiB (busy with a long
     * job). A job estimated at about 0.9 GiB (batch 1,024 × 64 tokens on the tiny backbone) is submitted first, then two
     * small ones (about 0.2 GiB): the small worker runs both small jobs one after the other while the large job, ahead
     * of them in the queue, stays queued; when the long job is cancelled the large worker takes it. A job that no
     * worker can hold (batch 2,048: about 1.6 GiB) is refused at submit naming hyperparameters.batch_size.
     */
    @Test
    @Order(11)
    void aJobOnlyALargeWorkerCanHoldWaitsForOneAndOneNoWorkerCanHoldIsRefused() throws Exception {
        setWorkers(1);
        String large = workers.keySet().stream().filter(w -> workers.get(w).alive()).findFirst().orElseThrow();
        String longJob = submit(stepsSpec(2000));
        String small = "worker-small-" + UUID.randomUUID().toString().substring(0, 4);
        ServiceProcess smallWorker = newWorker(small, commonEnv, "512M");
        workers.put(small, smallWorker);
        boolean longCancelled = false;
        try {
            events.awaitStatus(longJob, "running", JOB_TIMEOUT);
            smallWorker.start();
            smallWorker.awaitReady(Duration.ofMinutes(8));

            HttpResponse<String> refused = api.createJob(wideSpec(2048), UUID.randomUUID().toString());
            assertEquals(400, refused.statusCode(), refused.body());
            JsonNode error = JSON.readTree(refused.body()).path("errors").get(0);
            assertEquals("hyperparameters.batch_size", error.path("field").asText(), refused.body());
            assertTrue(error.path("message").asText().contains("offers 1.5 GiB"), refused.body());

            String wide = submit(wideSpec(1024));
            long estimate = api.job(wide).path("memory_estimate").path("peak_bytes").asLong();
            assertTrue(estimate > (512L << 20) && estimate <= (1536L << 20), "the wide job needs the large worker: "
                    + api.job(wide));
            for (int i = 0; i < 2; i++) {
                String next = submit(stepsSpec(1));
                assertTrue(api.job(next).path("memory_estimate").path("peak_bytes").asLong() <= (512L << 20));
                JobEvent running = events.awaitStatus(next, "running", JOB_TIMEOUT);
                assertEquals(small, running.data().get("worker"), events.summary(next));
                assertEquals("succeeded", events.awaitEnd(next, JOB_TIMEOUT).status().wire(), events.summary(next));
                assertEquals("queued", api.job(wide).path("status").asText(),
                        "the small worker skipped the wide job ahead of its small one" + events.summary(wide));
            }
            api.control(longJob, "cancel");
            longCancelled = true;
            JobEvent running = events.awaitStatus(wide, "running", JOB_TIMEOUT);
            assertEquals(large, running.data().get("worker"), events.summary(wide));
            JobEvent end = events.awaitEnd(wide, JOB_TIMEOUT);
            assertEquals("succeeded", end.status().wire(), events.summary(wide));
            System.out.printf("[placement] wide job: estimate %d bytes, run added %d bytes (peak %s, start %s)%n",
                    estimate, longOf(end, "peak_rss_bytes") - longOf(end, "start_rss_bytes"),
                    end.data().get("peak_rss_bytes"), end.data().get("start_rss_bytes"));
        } finally {
            if (!longCancelled) {
                api.control(longJob, "cancel");
            }
            smallWorker.stop();
        }
        events.awaitEnd(longJob, JOB_TIMEOUT);
    }

    /** One optimizer step of LoRA at {@code batch} × 64 tokens (the tiny backbone's longest sequence). */
    private static String wideSpec(int batch) {
        return ("""
                {"model": "%s", "task": "classification", "training_file": "%s",
                 "method": {"type": "lora"},
                 "hyperparameters": {"epochs": 1, "max_steps": 1, "batch_size": %d, "max_seq_length": 64,
                                     "learning_rate": 0.01, "eval_every_steps": 0, "checkpoint_every_steps": 0},
                 "seed": 7}""").formatted(modelId, trainingFileId, batch);
    }

    /**
     * Issue 14 (fault injection): Kafka stopped while a job trains, so the worker finishes training, stores the adapter and
     * records the run's ending with the broker away. Nothing is lost: job-api, which learns of endings from Kafka only,
     * still reports the job running with the adapter already stored; once Kafka is back the worker's event outbox
     * delivers the ending, the job is succeeded with that adapter (one attempt: the unpublishable event was not taken
     * for a training failure), and the topic holds exactly one terminal event of the job.
     */
    @Test
    @Order(12)
    void kafkaDownWhenTrainingEndsLosesNothing() throws Exception {
        DevStackControl devstack = DevStackControl.local();
        // long enough to still be training when the broker has gone (its controlled shutdown took 7 s at load 58, the
        // 300 steps with their checkpoints 70 s); the check below that the run ended after the stop says whether it was
        String jobId = submit(stepsSpec(300));
        events.awaitStatus(jobId, "running", JOB_TIMEOUT);
        Instant kafkaDown;
        JsonNode stored;
        try {
            devstack.stop("kafka");
            kafkaDown = Instant.now();
            stored = awaitAdapterOf(jobId, JOB_TIMEOUT);
            JsonNode meanwhile = api.job(jobId);
            assertEquals("running", meanwhile.path("status").asText(),
                    "job-api cannot know of the ending while Kafka is down: " + meanwhile);
        } finally {
            devstack.start("kafka");
        }
        JsonNode job = api.awaitStatus(jobId, "succeeded", JOB_TIMEOUT);
        assertEquals(stored.path("id").asText(), job.path("adapter").asText(), "the stored adapter is the job's: " + job);
        assertEquals(1, job.path("attempt").asInt(), "not retrained: " + job);
        // the metrics of the last steps were sent while Kafka was away and may be lost; the succeeded event ends progress
        assertEquals(300, job.path("progress").path("step").asLong(), job.toString());

        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("succeeded", end.status().wire(), events.summary(jobId));
        assertTrue(end.at().isAfter(kafkaDown), "the run must end after Kafka was stopped (at " + kafkaDown
                + ") for this test to mean anything; it ended at " + end.at() + ": make the job longer");
        List<JobEvent> onTopic = topicEventsOf(jobId);
        List<String> terminal = onTopic.stream().filter(e -> e.type() == JobEventType.STATUS && e.status() != null
                && e.status().isTerminal()).map(e -> e.seq() + " " + e.status().wire()).toList();
        // two workers relay the same outbox: the one sending holds the row until the broker answers, so the other
        // never buffers a second copy of the event
        assertEquals(1, terminal.size(), "exactly one terminal event of " + jobId + " on " + Topics.JOBS_EVENTS
                + ": " + terminal);
        long succeededInHistory = 0;
        String after = null;
        boolean more = true;
        while (more) { // the job's whole history, 100 events a page
            HttpResponse<String> page = api.get("/v1/fine_tuning/jobs/" + jobId + "/events?limit=100"
                    + (after == null ? "" : "&after=" + after));
            assertEquals(200, page.statusCode(), "events of " + jobId + ": " + page.body());
            JsonNode history = JSON.readTree(page.body());
            for (JsonNode e : history.path("data")) {
                if ("succeeded".equals(e.path("status").asText(null))) {
                    succeededInHistory++;
                }
                after = e.path("id").asText();
            }
            more = history.path("has_more").asBoolean(false) && history.path("data").size() > 0;
        }
        assertEquals(1, succeededInHistory, "one succeeded event in job-api's history of " + jobId);
        assertEquals(1, adaptersOf(jobId).size(), "exactly one adapter of " + jobId);
    }

    /**
     * Priority with a real worker (issue 15's proof): one worker busy with a long job, 20 normal-priority jobs of one step
     * queued behind it, then one high-priority job. Once all 21 requests are in the workers' queue the long job is
     * cancelled: the next of them the worker starts (its {@code running} event) is the high-priority one, although 20
     * were submitted before it. Only that job runs; the 20 are cancelled (whichever started after it may finish).
     */
    @Test
    @Order(13)
    void aHighPriorityJobSubmittedBehindTwentyNormalOnesStartsNext() throws Exception {
        setWorkers(1);
        String blocker = submit(stepsSpec(BLOCKER_STEPS));
        List<String> normal = new ArrayList<>();
        String high = null;
        try {
            events.awaitStatus(blocker, "running", JOB_TIMEOUT);
            Map<org.apache.kafka.common.TopicPartition, Long> before = requestedEndOffsets();
            for (int i = 0; i < 20; i++) {
                normal.add(submit(stepsSpec(1)));
            }
            high = submit(stepsSpec(1, "high"));
            List<String> all = new ArrayList<>(normal);
            all.add(high);
            awaitInWorkersQueue(all, before);
        } finally {
            cancelUnlessEnded(api, blocker);
        }
        assertEquals("cancelled", events.awaitEnd(blocker, JOB_TIMEOUT).status().wire(),
                "the long job must still hold the worker while the 21 are queued" + events.summary(blocker));
        try {
            assertEquals("succeeded", events.awaitEnd(high, JOB_TIMEOUT).status().wire(), events.summary(high));
        } finally {
            for (String id : normal) {
                cancelUnlessEnded(api, id);
            }
        }
        for (String id : normal) {
            events.awaitEnd(id, JOB_TIMEOUT);
        }
        // one worker starts one job at a time: every normal job that ran at all started after the high one
        Instant highStarted = startedAt(high);
        List<String> startedBefore = normal.stream().filter(id -> startedAt(id) != null
                && !startedAt(id).isAfter(highStarted)).toList();
        assertTrue(startedBefore.isEmpty(), "normal jobs started before the high-priority one (" + highStarted + "): "
                + startedBefore.stream().map(id -> id + " at " + startedAt(id)).toList());
    }

    /**
     * Fair share between tenants with a real worker (issue 15's proof): one worker busy with a long job of a third
     * tenant; tenant A queues 20 one-step jobs, then tenant B queues 1. Once all 21 are in the workers' queue the long
     * job is cancelled. In the order the worker starts them, A's first job runs, then B's single job — second, not
     * 21st — then A's second: the two tenants alternate while both have work. A's remaining jobs are then cancelled.
     */
    @Test
    @Order(14)
    void twoTenantsWithTwentyAndOneQueuedJobsAlternate() throws Exception {
        setWorkers(1);
        JobApi admin = new JobApi(jobApi.baseUrl(), ADMIN_KEY);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        JobApi tenantA = new JobApi(jobApi.baseUrl(), admin.createTenantKey("sys-fair-a-" + suffix));
        JobApi tenantB = new JobApi(jobApi.baseUrl(), admin.createTenantKey("sys-fair-b-" + suffix));
        // each tenant trains on its own upload of the same files and model (a tenant sees only its own artifacts)
        Path training = ServiceProcess.repoRoot().resolve("data/wordnet-supersense/smoke/train.jsonl");
        String modelA = registerModel(backboneDir, "tiny-bert-a-" + suffix, tenantA.key);
        String fileA = new ArtifactClient(artifactStore.baseUrl(), tenantA.key)
                .uploadFile(training, "fine-tune",
                        "classification").path("id").asText();
        String modelB = registerModel(backboneDir, "tiny-bert-b-" + suffix, tenantB.key);
        String fileB = new ArtifactClient(artifactStore.baseUrl(), tenantB.key)
                .uploadFile(training, "fine-tune",
                        "classification").path("id").asText();

        String blocker = submit(stepsSpec(BLOCKER_STEPS));
        List<String> jobsA = new ArrayList<>();
        String jobB = null;
        try {
            events.awaitStatus(blocker, "running", JOB_TIMEOUT);
            Map<org.apache.kafka.common.TopicPartition, Long> before = requestedEndOffsets();
            for (int i = 0; i < 20; i++) {
                jobsA.add(submit(tenantA, stepsSpec(modelA, fileA, 1, "normal")));
            }
            jobB = submit(tenantB, stepsSpec(modelB, fileB, 1, "normal"));
            List<String> all = new ArrayList<>(jobsA);
            all.add(jobB);
            awaitInWorkersQueue(all, before);
        } finally {
            cancelUnlessEnded(api, blocker);
        }
        assertEquals("cancelled", events.awaitEnd(blocker, JOB_TIMEOUT).status().wire(),
                "the long job must still hold the worker while the 21 are queued" + events.summary(blocker));
        try {
            for (String id : List.of(jobsA.get(0), jobB, jobsA.get(1))) {
                assertEquals("succeeded", events.awaitEnd(id, JOB_TIMEOUT).status().wire(), events.summary(id));
            }
        } finally {
            for (String id : jobsA) {
                cancelUnlessEnded(tenantA, id);
            }
        }
        for (String id : jobsA) {
            events.awaitEnd(id, JOB_TIMEOUT);
        }
        String single = jobB;
        List<String> all = new ArrayList<>(jobsA);
        all.add(single);
        List<String> startOrder = all.stream().filter(id -> startedAt(id) != null)
                .sorted(java.util.Comparator.comparing(JobPipelineIT::startedAt)).toList();
        List<String> named = startOrder.stream().map(id -> id.equals(single) ? "B" : "A" + (jobsA.indexOf(id) + 1)).toList();
        assertEquals(List.of("A1", "B", "A2"), named.subList(0, Math.min(3, named.size())),
                "start order of tenant A's 20 jobs and tenant B's one: " + named);
    }

    /** Steps of a job that holds the worker until it is cancelled (minutes of training on the tiny backbone). */
    private static final int BLOCKER_STEPS = 100_000;

    /** When the job's (last) run started: its {@code running} event's time on the worker, or null if it never ran. */
    private static Instant startedAt(String jobId) {
        Instant at = null;
        for (JobEvent e : events.events(jobId)) {
            if (e.type() == JobEventType.STATUS && e.status() != null && "running".equals(e.status().wire())) {
                at = e.at();
            }
        }
        return at;
    }

    /** {@code POST …/cancel}, accepting 409 (the job ended in the meantime). */
    private static void cancelUnlessEnded(JobApi as, String jobId) throws Exception {
        HttpResponse<String> r = as.post("/v1/fine_tuning/jobs/" + jobId + "/cancel", null);
        assertTrue(r.statusCode() == 200 || r.statusCode() == 409, "cancel " + jobId + ": " + r.statusCode() + " "
                + r.body());
    }

    /** The end offsets of {@code foundry.jobs.requested} now: requests submitted later are at or beyond them. */
    private static Map<org.apache.kafka.common.TopicPartition, Long> requestedEndOffsets() {
        try (KafkaConsumer<String, String> c = plainConsumer()) {
            List<org.apache.kafka.common.TopicPartition> partitions = c.partitionsFor(Topics.JOBS_REQUESTED,
                    Duration.ofSeconds(60)).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            return c.endOffsets(partitions, Duration.ofSeconds(60));
        }
    }

    /**
     * Waits until every job's request is in the workers' shared queue: found on {@code foundry.jobs.requested} (after
     * {@code from}, where job-api's outbox relayed it) and the workers' group {@code trainer-workers} has committed past
     * it — a worker commits a request only once it is in {@code worker.job_queue} (trainer-worker README).
     */
    private static void awaitInWorkersQueue(List<String> jobIds, Map<org.apache.kafka.common.TopicPartition, Long> from)
            throws Exception {
        Map<String, org.apache.kafka.common.TopicPartition> partitionOf = new LinkedHashMap<>();
        Map<String, Long> offsetOf = new LinkedHashMap<>();
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        try (KafkaConsumer<String, String> c = plainConsumer()) {
            c.assign(from.keySet());
            from.forEach(c::seek);
            while (offsetOf.size() < jobIds.size()) {
                assertTrue(System.nanoTime() < deadline, "requests on " + Topics.JOBS_REQUESTED + ": " + offsetOf.keySet()
                        + " of " + jobIds);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    if (jobIds.contains(r.key()) && !offsetOf.containsKey(r.key())) {
                        partitionOf.put(r.key(), new org.apache.kafka.common.TopicPartition(r.topic(), r.partition()));
                        offsetOf.put(r.key(), r.offset());
                    }
                }
            }
        }
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            while (true) {
                Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(WORKERS_REQUEST_GROUP).partitionsToOffsetAndMetadata()
                                .get(30, TimeUnit.SECONDS);
                List<String> pending = jobIds.stream().filter(id -> {
                    var at = committed.get(partitionOf.get(id));
                    return at == null || at.offset() <= offsetOf.get(id);
                }).toList();
                if (pending.isEmpty()) {
                    return;
                }
                assertTrue(System.nanoTime() < deadline, "requests not yet queued by the workers: " + pending);
                Thread.sleep(200);
            }
        }
    }

    /** trainer-worker's request consumer group ({@code JobRequestConsumer.GROUP}). */
    private static final String WORKERS_REQUEST_GROUP = "trainer-workers";

    private static KafkaConsumer<String, String> plainConsumer() {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()));
    }

    /** The tenant's adapters whose lineage names {@code jobId} (artifact-store, over HTTP: no Kafka involved). */
    private static List<JsonNode> adaptersOf(String jobId) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(artifactStore.baseUrl() + "/v1/adapters?limit=100"))
                .header("Authorization", "Bearer " + tenantKey).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), "GET /v1/adapters: " + r.body());
        List<JsonNode> found = new ArrayList<>();
        for (JsonNode a : JSON.readTree(r.body()).path("data")) {
            if (jobId.equals(a.path("lineage").path("job_id").asText())) {
                found.add(a);
            }
        }
        return found;
    }

    private static JsonNode awaitAdapterOf(String jobId, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonNode> found = adaptersOf(jobId);
            if (!found.isEmpty()) {
                return found.get(0);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no adapter of " + jobId + " in artifact-store within " + timeout);
    }

    /** Every record of {@code jobId} on the events topic, read from the beginning to the end offsets of now. */
    private static List<JobEvent> topicEventsOf(String jobId) throws Exception {
        List<JobEvent> found = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            List<org.apache.kafka.common.TopicPartition> partitions = c.partitionsFor(Topics.JOBS_EVENTS,
                    Duration.ofSeconds(60)).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<org.apache.kafka.common.TopicPartition, Long> end = c.endOffsets(partitions, Duration.ofSeconds(60));
            while (partitions.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(60)) < end.get(tp))) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    if (jobId.equals(r.key())) {
                        found.add(JSON.readValue(r.value(), JobEvent.class));
                    }
                }
            }
        }
        return found;
    }

    /** Exactly {@code n} live workers: stops the newest extra ones, or starts more (for the scheduling benchmark). */
    static void setWorkers(int n) throws Exception {
        List<String> alive = workers.entrySet().stream().filter(e -> e.getValue().alive()).map(Map.Entry::getKey)
                .toList();
        for (int i = alive.size() - 1; i >= n; i--) {
            workers.get(alive.get(i)).stop();
        }
        ensureWorkers(n);
    }

    /** Starts workers (worker-c, worker-d, …) until {@code n} are alive. */
    static void ensureWorkers(int n) throws Exception {
        List<ServiceProcess> started = new ArrayList<>();
        char next = 'c';
        // a started process counts as alive at once: counting it again in started (as before) stopped at n - 1
        // workers whenever more than one had to start (the 4-worker benchmark ran on 3)
        long missing = n - workers.values().stream().filter(ServiceProcess::alive).count();
        while (started.size() < missing) {
            String name = "worker-" + next++;
            if (workers.containsKey(name) && workers.get(name).alive()) {
                continue;
            }
            ServiceProcess w = newWorker(name, commonEnv);
            workers.put(name, w);
            w.start();
            started.add(w);
        }
        for (ServiceProcess w : started) {
            w.awaitReady(Duration.ofMinutes(8));
        }
    }

    /** A LoRA job of exactly {@code steps} optimizer steps, no evaluation or checkpoint on the way. */
    static String stepsSpec(int steps) {
        return stepsSpec(steps, "normal");
    }

    /** As {@link #stepsSpec(int)}, at {@code priority} ({@code high}, {@code normal}, {@code low}). */
    static String stepsSpec(int steps, String priority) {
        return stepsSpec(modelId, trainingFileId, steps, priority);
    }

    private static String stepsSpec(String model, String trainingFile, int steps, String priority) {
        return ("""
                {"model": "%s", "task": "classification", "training_file": "%s",
                 "method": {"type": "lora"},
                 "hyperparameters": {"epochs": 1000, "max_steps": %d, "batch_size": 16, "max_seq_length": 32,
                                     "eval_every_steps": 0, "checkpoint_every_steps": 0},
                 "seed": 7, "priority": "%s"}""").formatted(model, trainingFile, steps, priority);
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
