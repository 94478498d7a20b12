package io.peftfoundry.systemtests;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.peftfoundry.systemtests.JobPipelineIT.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The method advisor through the whole platform (job-api, artifact-store, two trainer-workers, eval-service as
 * processes on devstack). A sweep: job-api's {@code POST /v1/sweeps}, two real trainer-workers training its six
 * children (one per PEFT method) on the tiny BERT of {@link JobPipelineIT}, and eval-service evaluating each child and
 * training the automatic full fine-tune baseline. The sweep's children share one base spec (model, data, task), so
 * they must share one baseline: one {@code full} job in the tenant's list, and the same baseline in every child's
 * comparison. The sweep's best child must be the child whose final validation accuracy is highest.
 * And a comparison that cannot mean anything is flagged: on data whose texts are all the same, no model can beat
 * the majority class.
 */
class AdvisorPipelineIT {

    private static final Duration SWEEP_TIMEOUT = Duration.ofMinutes(10);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ServiceProcess evalService;

    @BeforeAll
    static void start() throws Exception {
        JobPipelineIT.startPlatform();
        Map<String, String> env = new LinkedHashMap<>(JobPipelineIT.commonEnv);
        env.put("FOUNDRY_JOB_API_URL", JobPipelineIT.jobApi.baseUrl());
        env.put("FOUNDRY_ARTIFACT_STORE_URL", JobPipelineIT.artifactStore.baseUrl());
        env.put("FOUNDRY_DATA_DIR", JobPipelineIT.work.resolve("eval-service").toString());
        env.put("FOUNDRY_DEVICE", "cpu");
        evalService = new ServiceProcess("eval-service", "eval-service", "FOUNDRY_EVAL_SERVICE_PORT", env,
                List.of("-Xmx768m", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"));
        evalService.start();
        evalService.awaitReady(Duration.ofMinutes(5));
    }

    @AfterAll
    static void stop() throws Exception {
        if (evalService != null) {
            evalService.stop();
        }
        JobPipelineIT.stopPlatform();
    }

    @Test
    void sixMethodSweepSharesOneBaselineAndRanksTheMostAccurateChildBest() throws Exception {
        JobApi api = JobPipelineIT.api;
        String request = """
                {"base": {"model": "%s", "training_file": "%s", "validation_file": "%s",
                          "hyperparameters": {"batch_size": 16, "max_seq_length": 32, "max_steps": 8,
                                              "eval_every_steps": 0, "checkpoint_every_steps": 0}},
                 "grid": {"method": [{"type": "lora", "lora": {"r": 8}}, {"type": "lora", "lora": {"r": 2}},
                                     {"type": "adapter"}, {"type": "prefix"}, {"type": "prompt"}, {"type": "ia3"}]},
                 "metric": "accuracy", "early_stopping": false}"""
                .formatted(JobPipelineIT.modelId, JobPipelineIT.trainingFileId, JobPipelineIT.validationFileId);
        HttpResponse<String> created = api.post("/v1/sweeps", request);
        assertEquals(201, created.statusCode(), "POST /v1/sweeps: " + created.body());
        String sweepId = JSON.readTree(created.body()).path("id").asText();

        JsonNode sweep = awaitSweep(api, sweepId);
        assertEquals("succeeded", sweep.path("status").asText(), "sweep " + sweepId + ": " + sweep);
        JsonNode children = sweep.path("children");
        assertEquals(6, children.size(), "children: " + children);
        double bestAccuracy = Double.NEGATIVE_INFINITY;
        Set<String> mostAccurate = new HashSet<>();
        for (JsonNode child : children) {
            assertEquals("succeeded", child.path("status").asText(), "child " + child);
            assertTrue(child.path("metric").isNumber(), "child without a final accuracy: " + child);
            double accuracy = child.path("metric").asDouble();
            if (accuracy > bestAccuracy) {
                bestAccuracy = accuracy;
                mostAccurate.clear();
            }
            if (accuracy == bestAccuracy) {
                mostAccurate.add(child.path("job_id").asText());
            }
        }
        JsonNode best = sweep.path("best");
        assertTrue(mostAccurate.contains(best.path("job_id").asText()),
                "best " + best + " is not among the most accurate children " + mostAccurate + " (accuracy " + bestAccuracy + ")");
        assertEquals(bestAccuracy, best.path("metric").asDouble(), 0.0, "best child's metric");

        // eval-service: every child compared with the same baseline, and that baseline is the tenant's one full job
        Set<String> baselineJobs = new HashSet<>();
        for (JsonNode child : children) {
            JsonNode comparison = awaitComparison(child.path("job_id").asText());
            JsonNode baseline = comparison.path("baseline");
            assertEquals("succeeded", baseline.path("status").asText(), "baseline of " + child.path("job_id") + ": " + comparison);
            baselineJobs.add(baseline.path("job_id").asText());
            JsonNode c = comparison.path("comparison");
            assertTrue(c.path("delta").path("accuracy").isNumber(), "no accuracy delta in " + comparison);
            double delta = c.path("delta").path("accuracy").asDouble();
            JsonNode ci = c.path("accuracy_delta_ci95");
            assertTrue(ci.path("low").asDouble() <= delta && delta <= ci.path("high").asDouble(),
                    "the paired 95 % interval " + ci + " does not hold the observed delta " + delta);
        }
        assertEquals(1, baselineJobs.size(), "children compared with different baselines: " + baselineJobs);
        List<String> fullJobs = new ArrayList<>();
        for (JsonNode job : JSON.readTree(api.get("/v1/fine_tuning/jobs?limit=100").body()).path("data")) {
            if ("full".equals(job.path("method").path("type").asText())) {
                fullJobs.add(job.path("id").asText());
            }
        }
        assertEquals(List.copyOf(baselineJobs), fullJobs, "the tenant's full fine-tune jobs");
    }

    /**
     * Every training and validation text is the same sentence and the labels are 70 % "yes", 30 % "no": any model,
     * the adapter and its full fine-tune baseline alike, gives all validation examples the same prediction, so its
     * accuracy is 0.7 or 0.3 and never above the majority-class reference of 0.7. The comparison must say
     * {@code degenerate} and report no retention.
     */
    @Test
    void identicalTextsWithSkewedLabelsGiveADegenerateComparisonWithoutRetention() throws Exception {
        Path dir = Files.createDirectories(JobPipelineIT.work.resolve("untrainable"));
        Path train = dir.resolve("train.jsonl");
        Path validation = dir.resolve("validation.jsonl");
        Files.write(train, skewed(40));
        Files.write(validation, skewed(20));
        String trainId = JobPipelineIT.artifacts.uploadFile(train, "fine-tune", "classification").path("id").asText();
        String validId = JobPipelineIT.artifacts.uploadFile(validation, "fine-tune", "classification").path("id").asText();
        String spec = """
                {"model": "%s", "training_file": "%s", "validation_file": "%s", "method": {"type": "lora"},
                 "hyperparameters": {"batch_size": 8, "max_seq_length": 16, "max_steps": 6,
                                     "eval_every_steps": 0, "checkpoint_every_steps": 0}}"""
                .formatted(JobPipelineIT.modelId, trainId, validId);
        HttpResponse<String> created = JobPipelineIT.api.post("/v1/fine_tuning/jobs", spec);
        assertEquals(201, created.statusCode(), "POST job: " + created.body());
        String jobId = JSON.readTree(created.body()).path("id").asText();

        JsonNode comparison = awaitComparison(jobId);
        JsonNode c = comparison.path("comparison");
        assertEquals(0.7, c.path("reference").path("majority_accuracy").asDouble(), 1e-9, "reference: " + comparison);
        assertTrue(c.path("degenerate").asBoolean(), "not flagged degenerate: " + comparison);
        assertFalse(c.path("degenerate_reason").asText("").isBlank(), "no reason given: " + comparison);
        assertEquals(0, c.path("retention_percent").size(), "retention reported for a degenerate comparison: " + comparison);
    }

    /** n lines of one text; the first 70 % labelled "yes", the rest "no". */
    private static List<String> skewed(int n) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add("{\"text\": \"the same sentence every time\", \"label\": \"" + (i < n * 7 / 10 ? "yes" : "no") + "\"}");
        }
        return lines;
    }

    private static JsonNode awaitSweep(JobApi api, String sweepId) throws Exception {
        long deadline = System.nanoTime() + SWEEP_TIMEOUT.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = api.get("/v1/sweeps/" + sweepId);
            assertEquals(200, r.statusCode(), "GET sweep: " + r.body());
            last = JSON.readTree(r.body());
            if (!"running".equals(last.path("status").asText())) {
                return last;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("sweep " + sweepId + " still running after " + SWEEP_TIMEOUT + ": " + last);
    }

    /** {@code GET /v1/comparisons/{job}} until its comparison with the baseline is there (or the baseline failed). */
    private static JsonNode awaitComparison(String jobId) throws Exception {
        long deadline = System.nanoTime() + SWEEP_TIMEOUT.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(evalService.baseUrl()
                            + "/v1/comparisons/" + jobId)).header("Authorization", "Bearer " + JobPipelineIT.api.key)
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            last = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200) {
                JsonNode c = JSON.readTree(r.body());
                if (!c.path("comparison").isNull() && !c.path("comparison").isMissingNode()
                        || "failed".equals(c.path("baseline").path("status").asText())) {
                    return c;
                }
            }
            Thread.sleep(2000);
        }
        throw new AssertionError("no comparison for " + jobId + " within " + SWEEP_TIMEOUT + "; last: " + last);
    }
}
