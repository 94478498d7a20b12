package io.peftfoundry.systemtests;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.ControlAction;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.model.BertCheckpoint;
import io.peftfoundry.engine.model.BertModel;
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
 * The job pipeline end to end on devstack: artifact-store and two trainer-workers as processes; jobs are submitted as
 * job-api's outbox relay does (a {@code JobRequested} on {@code foundry.jobs.requested}) and controlled as job-api does
 * (a {@code JobControl} on {@code foundry.jobs.control}); what the workers do is read back from
 * {@code foundry.jobs.events} and artifact-store.
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
    static final String TENANT = "admin"; // artifact-store's tenant of the admin key

    private static final String ADMIN_KEY = "sys-admin-" + UUID.randomUUID();
    private static Path work;
    private static Path backboneDir;
    private static Path validationPath;
    private static ServiceProcess artifactStore;
    private static final Map<String, ServiceProcess> workers = new LinkedHashMap<>();
    static EventWatcher events;
    private static KafkaProducer<String, String> producer;
    private static ArtifactClient artifacts;
    static String modelId;
    static String trainingFileId;
    static String validationFileId;
    private static String bootstrap;

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

        Map<String, String> asEnv = new LinkedHashMap<>(common);
        asEnv.put("FOUNDRY_IMPORT_BUILTIN_MODELS", "false");
        asEnv.put("FOUNDRY_DATA_DIR", work.resolve("artifact-store").toString());
        artifactStore = new ServiceProcess("artifact-store", "artifact-store", "FOUNDRY_ARTIFACT_STORE_PORT", asEnv,
                List.of("-Xmx512m"));
        artifactStore.start();

        for (String name : List.of("worker-a", "worker-b")) {
            workers.put(name, newWorker(name, common));
            workers.get(name).start();
        }
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

        artifacts = new ArtifactClient(artifactStore.baseUrl(), ADMIN_KEY);
        Path smoke = repo.resolve("data/wordnet-supersense/smoke");
        Path trainingPath = smoke.resolve("train.jsonl");
        validationPath = smoke.resolve("validation.jsonl");
        trainingFileId = artifacts.uploadFile(trainingPath, "fine-tune", "classification").path("id").asText();
        validationFileId = artifacts.uploadFile(validationPath, "fine-tune", "classification").path("id").asText();
        backboneDir = TinyBackbone.write(work.resolve("tiny-bert"), List.of(trainingPath, validationPath), 5);
        modelId = registerModel(backboneDir, "tiny-bert-" + UUID.randomUUID().toString().substring(0, 8));
    }

    private static ServiceProcess newWorker(String name, Map<String, String> common) {
        Map<String, String> env = new LinkedHashMap<>(common);
        env.put("FOUNDRY_WORKER_ID", name);
        env.put("FOUNDRY_ARTIFACT_STORE_URL", artifactStore.baseUrl());
        env.put("FOUNDRY_DATA_DIR", work.resolve(name).toString());
        env.put("FOUNDRY_DEVICE", "cpu");
        // short lease and session: a killed worker's job moves on within seconds
        env.put("FOUNDRY_WORKER_LEASE_TTL", "6s");
        env.put("FOUNDRY_WORKER_LEASE_RENEW_EVERY", "1s");
        env.put("FOUNDRY_WORKER_SESSION_TIMEOUT_MS", "6000");
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
    }

    /** {@code POST /v1/models}: the backbone directory as a zip of its Hugging Face layout. */
    private static String registerModel(Path dir, String name) throws Exception {
        Path zip = ArtifactClient.zipDirectory(dir);
        String boundary = "----system-tests-" + UUID.randomUUID();
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + name + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.zip\"\r\n"
                + "Content-Type: application/zip\r\n\r\n";
        HttpRequest req = HttpRequest.newBuilder(URI.create(artifactStore.baseUrl() + "/v1/models"))
                .header("Authorization", "Bearer " + ADMIN_KEY)
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

    private static JobSpec spec(int epochs, int checkpointEvery) {
        return JobSpecs.parse("""
                {"model": "%s", "task": "classification", "training_file": "%s", "validation_file": "%s",
                 "method": {"type": "lora"},
                 "hyperparameters": {"epochs": %d, "batch_size": 16, "learning_rate": 0.01, "max_seq_length": 32,
                                     "eval_every_steps": 0, "checkpoint_every_steps": %d},
                 "seed": 7}""".formatted(modelId, trainingFileId, validationFileId, epochs, checkpointEvery));
    }

    private static String submit(JobSpec spec) throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID();
        send(Topics.JOBS_REQUESTED, jobId, JSON.writeValueAsString(new JobRequested(jobId, TENANT, 1, spec, null)));
        return jobId;
    }

    static void send(String topic, String key, String value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }

    private static void control(String jobId, ControlAction action) throws Exception {
        send(Topics.JOBS_CONTROL, jobId, JSON.writeValueAsString(new JobControl(jobId, action)));
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
        String jobId = submit(spec(epochs, 10));
        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("succeeded", end.status().wire(), events.summary(jobId));
        long total = (long) epochs * STEPS_PER_EPOCH;
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

        String adapterId = (String) end.data().get("adapter");
        assertNotNull(adapterId);
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
    void cancelStopsTheJobWithinAStep() throws Exception {
        int epochs = 200;
        String jobId = submit(spec(epochs, 1000));
        events.await(jobId, e -> e.type() == JobEventType.METRICS, JOB_TIMEOUT, "first metrics");
        control(jobId, ControlAction.CANCEL);
        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("cancelled", end.status().wire(), events.summary(jobId));
        assertTrue(longOf(end, "step") < (long) epochs * STEPS_PER_EPOCH);
        assertTrue(events.events(jobId).stream().noneMatch(e -> e.status() != null
                && e.status().wire().equals("succeeded")));
    }

    @Test
    @Order(3)
    void pauseWritesACheckpointAndResumeContinuesFromIt() throws Exception {
        int epochs = 200;
        JobSpec spec = spec(epochs, 1000);
        String jobId = submit(spec);
        events.await(jobId, e -> e.type() == JobEventType.METRICS, JOB_TIMEOUT, "first metrics");
        control(jobId, ControlAction.PAUSE);
        JobEvent paused = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("paused", paused.status().wire(), events.summary(jobId));
        String checkpointId = (String) paused.data().get("checkpoint_id");
        assertNotNull(checkpointId, "paused carries the checkpoint: " + paused.data());
        long pausedAt = longOf(paused, "step");
        assertTrue(pausedAt > 0 && pausedAt < (long) epochs * STEPS_PER_EPOCH);

        // job-api's resume: the same job queued again with resume_from
        send(Topics.JOBS_REQUESTED, jobId, JSON.writeValueAsString(new JobRequested(jobId, TENANT, 2, spec, checkpointId)));
        JobEvent resumedMetrics = events.await(jobId, e -> e.type() == JobEventType.METRICS && attemptOf(e) == 2
                && e.data().containsKey("loss"), JOB_TIMEOUT, "metrics of attempt 2");
        assertEquals(pausedAt + 1, longOf(resumedMetrics, "step"), "the resumed run's first step follows the pause");
        assertTrue(events.events(jobId).stream().anyMatch(e -> e.type() == JobEventType.MESSAGE
                && String.valueOf(e.data().get("message")).contains("resumes from checkpoint " + checkpointId)));
        control(jobId, ControlAction.CANCEL);
        JobEvent end = events.await(jobId, e -> e.type() == JobEventType.STATUS && e.status().isTerminal(),
                JOB_TIMEOUT, "terminal status");
        assertEquals("cancelled", end.status().wire());
    }

    @Test
    @Order(4)
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
    @Order(5)
    void killedWorkerJobIsResumedFromItsCheckpointByAnother() throws Exception {
        int epochs = 12;
        String jobId = submit(spec(epochs, 10));
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

        JobEvent end = events.awaitEnd(jobId, JOB_TIMEOUT);
        assertEquals("succeeded", end.status().wire(), events.summary(jobId));
        assertTrue(attemptOf(end) >= 2);
        assertEquals((long) epochs * STEPS_PER_EPOCH, longOf(end, "step"));
    }
}
