package io.peftfoundry.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.eval.client.JobApiClient;
import io.peftfoundry.eval.service.BaselineService;
import io.peftfoundry.eval.service.EvalStore;
import io.peftfoundry.eval.service.JobInfo;
import io.peftfoundry.eval.support.ArtifactStoreProcess;
import io.peftfoundry.eval.support.JobApiStub;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many completions of one baseline key race (threads released together; the job-api stand-in answers slowly):
 * exactly one inserts the {@code baselines} row in the real PostgreSQL and exactly one POST reaches job-api.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class BaselineDedupeTest {

    private static final int RACERS = 16;

    @Inject
    BaselineService baselines;
    @Inject
    EvalStore store;
    @Inject
    JobApiClient jobApi;

    @Test
    void concurrentCompletionsSubmitOneBaseline() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String key = BaselineService.key("acme", "minilm-l6-v2", "sha256:train-" + run, "sha256:valid-" + run, "classification");
        ObjectMapper json = new ObjectMapper();
        int before = JobApiStub.SUBMISSIONS.size();

        ExecutorService pool = Executors.newFixedThreadPool(RACERS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < RACERS; i++) {
            String jobId = "ftjob-race-" + run + "-" + i;
            ObjectNode spec = json.createObjectNode();
            spec.put("model", "minilm-l6-v2").put("task", "classification").put("training_file", "file-t-" + i)
                    .put("validation_file", "file-v-" + i).put("seed", 42);
            spec.putObject("method").put("type", "lora").putObject("lora").put("r", 8);
            spec.putObject("hyperparameters").put("epochs", 2).put("learning_rate", 5e-4).put("batch_size", 16);
            JobInfo job = new JobInfo(jobId, "acme", spec);
            results.add(pool.submit(() -> {
                go.await();
                return baselines.ensureBaseline(job, key, "sha256:train-" + run, "sha256:valid-" + run, jobApi);
            }));
        }
        go.countDown();
        int winners = 0;
        for (Future<Boolean> f : results) {
            if (f.get()) {
                winners++;
            }
        }
        pool.shutdown();

        assertEquals(1, winners, "exactly one completion wins the key");
        assertEquals(1, store.countBaselines(key));
        List<JobApiStub.Submission> posts = JobApiStub.SUBMISSIONS.subList(before, JobApiStub.SUBMISSIONS.size())
                .stream().filter(s -> key.equals(s.body().path("metadata").path("baseline_key").asText())).toList();
        assertEquals(1, posts.size(), "exactly one POST /v1/fine_tuning/jobs");

        JobApiStub.Submission post = posts.get(0);
        assertEquals(BaselineService.idempotencyKey(key), post.idempotencyKey());
        assertEquals("full", post.body().path("method").path("type").asText());
        assertFalse(post.body().path("hyperparameters").has("learning_rate"), "full fine-tuning's own default rate");
        assertEquals(2, post.body().path("hyperparameters").path("epochs").asInt(), "same hyperparameters otherwise");
        assertEquals(42, post.body().path("seed").asInt());
        assertEquals("true", post.body().path("metadata").path("foundry_baseline").asText());
        assertTrue(post.body().path("metadata").path("baseline_for").asText().startsWith("ftjob-race-" + run));

        EvalStore.Baseline row = store.baselineByKey(key).orElseThrow();
        assertEquals("running", row.status());
        assertTrue(row.jobId().startsWith("ftjob-stub-"));
    }

    @Test
    void aFailedBaselineIsSubmittedAgainOnceUnderANewIdempotencyKey() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String key = BaselineService.key("acme", "minilm-l6-v2", "sha256:t-" + run, "sha256:v-" + run, "classification");
        ObjectMapper json = new ObjectMapper();
        ObjectNode spec = json.createObjectNode();
        spec.put("model", "minilm-l6-v2").put("task", "classification").put("training_file", "file-t")
                .put("validation_file", "file-v").put("seed", 42);
        spec.putObject("method").put("type", "lora");
        JobInfo first = new JobInfo("ftjob-first-" + run, "acme", spec);
        assertTrue(baselines.ensureBaseline(first, key, "sha256:t-" + run, "sha256:v-" + run, jobApi));
        String baselineId = store.baselineByKey(key).orElseThrow().id();
        store.baselineFailed(key, "baseline job ftjob-x failed");

        ExecutorService pool = Executors.newFixedThreadPool(RACERS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        int before = JobApiStub.SUBMISSIONS.size();
        for (int i = 0; i < RACERS; i++) {
            JobInfo job = new JobInfo("ftjob-again-" + run + "-" + i, "acme", spec);
            results.add(pool.submit(() -> {
                go.await();
                return baselines.ensureBaseline(job, key, "sha256:t-" + run, "sha256:v-" + run, jobApi);
            }));
        }
        go.countDown();
        int winners = 0;
        for (Future<Boolean> f : results) {
            winners += f.get() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(1, winners, "exactly one completion takes the failed baseline back");
        List<JobApiStub.Submission> posts = JobApiStub.SUBMISSIONS.subList(before, JobApiStub.SUBMISSIONS.size())
                .stream().filter(s -> key.equals(s.body().path("metadata").path("baseline_key").asText())).toList();
        assertEquals(1, posts.size());
        assertTrue(posts.get(0).idempotencyKey().startsWith(BaselineService.idempotencyKey(key) + "-retry-"),
                posts.get(0).idempotencyKey());
        EvalStore.Baseline row = store.baselineByKey(key).orElseThrow();
        assertEquals("running", row.status());
        assertEquals(baselineId, row.id(), "the row keeps its id");
        assertEquals(1, store.countBaselines(key));
    }

    /**
     * Issue 14 finding 3: tenant globex's full fine-tune on the same model and data is globex's baseline only — acme's
     * job gets its own baseline, submitted for acme, and acme's key never names globex's job.
     */
    @Test
    void aBaselineIsNeverSharedAcrossTenants() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        ObjectMapper json = new ObjectMapper();
        ObjectNode spec = json.createObjectNode();
        spec.put("model", "minilm-l6-v2").put("task", "classification").put("training_file", "file-t")
                .put("validation_file", "file-v").put("seed", 42);
        spec.putObject("method").put("type", "full");
        String td = "sha256:shared-t-" + run;
        String vd = "sha256:shared-v-" + run;
        JobInfo globexFull = new JobInfo("ftjob-globex-full-" + run, "globex", spec);
        String globexKey = BaselineService.keyOf(globexFull, td, vd);
        assertTrue(store.insertBaselineIfAbsent("base-g-" + run, globexKey, globexFull, td, vd));
        store.baselineSucceeded(globexKey, globexFull.jobId(), "eval-globex-" + run);

        ObjectNode loraSpec = spec.deepCopy();
        loraSpec.putObject("method").put("type", "lora");
        JobInfo acmeLora = new JobInfo("ftjob-acme-lora-" + run, "acme", loraSpec);
        String acmeKey = BaselineService.keyOf(acmeLora, td, vd);
        assertTrue(store.baselineByKey(acmeKey).isEmpty(), "globex's baseline is not acme's");

        int before = JobApiStub.SUBMISSIONS.size();
        assertTrue(baselines.ensureBaseline(acmeLora, acmeKey, td, vd, jobApi));
        List<JobApiStub.Submission> posts = JobApiStub.SUBMISSIONS.subList(before, JobApiStub.SUBMISSIONS.size())
                .stream().filter(s -> acmeKey.equals(s.body().path("metadata").path("baseline_key").asText())).toList();
        assertEquals(1, posts.size(), "acme gets a baseline of its own");
        assertEquals("acme", posts.get(0).onBehalfOf());
        EvalStore.Baseline acmeBaseline = store.baselineByKey(acmeKey).orElseThrow();
        assertEquals("acme", acmeBaseline.tenant());
        assertTrue(!globexFull.jobId().equals(acmeBaseline.jobId()), "acme's baseline never names globex's job");
        assertEquals(globexFull.jobId(), store.baselineByKey(globexKey).orElseThrow().jobId());
    }
}
