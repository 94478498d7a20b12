package io.peftfoundry.eval;

import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.training.EvalResult;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault injection on the evaluation path (finding 10, eval side), against devstack and the real artifact-store: S3
 * stopped while a job's succeeded event is evaluated leaves the evaluation waiting and retrying — not failed — and it
 * scores once S3 is back; an evaluation left {@code running} by an owner that died is taken over after its lease.
 * Every expected score is peft-engine's, computed here on the same files.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class EvaluationFaultsTest {

    private static final Pattern RETRIED = Pattern.compile(
            "foundry_messages_retried_total\\{channel=\"job-events\"[^}]*} ([0-9.eE+]+)");
    private static final Duration BOUND = Duration.ofSeconds(180);

    private final DevStackControl devstack = DevStackControl.local();

    @Inject
    EvalStore store;

    @Inject
    DataSource dataSource;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void s3StoppedDuringEvaluationDelaysItInsteadOfFailingIt() throws Exception {
        awaitReady();
        String run = UUID.randomUUID().toString().substring(0, 8);
        EvalFixtures.Prepared p = EvalFixtures.prepare(Files.createTempDirectory("eval-s3-"), 41, run,
                new LoraConfig(4, 8, 0.0, List.of("query", "value"), false));
        String jobId = "ftjob-s3-" + run;
        try (KafkaProducer<String, String> kafka = EvalFixtures.producer(bootstrap)) {
            EvalFixtures.sendRequested(kafka, jobId, p.spec());
            await().atMost(BOUND).until(() -> store.findSpec(jobId).isPresent());
            double retriedBefore = retried();

            devstack.stop("s3");
            EvalFixtures.sendStatus(kafka, jobId, 1_000_009, "succeeded", Map.of("adapter", p.adapterId()));
            // the download of the backbone, adapter or validation file met the stopped S3 and is being retried
            await().atMost(BOUND).pollInterval(Duration.ofMillis(500)).until(() -> retried() > retriedBefore);
            assertTrue(store.evaluationsOfJob("acme", jobId).stream().noneMatch(e -> "failed".equals(e.status())),
                    "no evaluation failed while S3 was away");
            devstack.start("s3");
        }

        await().atMost(BOUND).pollInterval(Duration.ofMillis(500)).until(() ->
                store.evaluationsOfJob("acme", jobId).stream().anyMatch(e -> "succeeded".equals(e.status())));
        List<EvalStore.Evaluation> evaluations = store.evaluationsOfJob("acme", jobId);
        assertEquals(1, evaluations.size(), "one evaluation per (job, adapter)");
        EvalResult expected = EvalFixtures.evaluateDirectly(p);
        assertEquals(expected.accuracy(), ((Number) evaluations.get(0).metrics().get("accuracy")).doubleValue(), 1e-12);
    }

    @Test
    void anEvaluationLeftRunningByADeadOwnerIsTakenOverAfterItsLease() throws Exception {
        awaitReady();
        String run = UUID.randomUUID().toString().substring(0, 8);
        EvalFixtures.Prepared p = EvalFixtures.prepare(Files.createTempDirectory("eval-lease-"), 43, run,
                new LoraConfig(4, 8, 0.0, List.of("query", "value"), false));
        String jobId = "ftjob-lease-" + run;
        try (KafkaProducer<String, String> kafka = EvalFixtures.producer(bootstrap)) {
            EvalFixtures.sendRequested(kafka, jobId, p.spec());
        }
        await().atMost(BOUND).until(() -> store.findSpec(jobId).isPresent());
        JobInfo job = store.findSpec(jobId).orElseThrow();
        // an owner claimed the evaluation an hour ago and died (no renewals since)
        String id = store.claimEvaluation("eval-dead-" + run, job, p.adapterId(), null, Map.of(), Duration.ofMinutes(5))
                .orElseThrow();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE evaluations SET claimed_at = now() - interval '1 hour' WHERE id = ?")) {
            ps.setString(1, id);
            assertEquals(1, ps.executeUpdate());
        }

        await().atMost(BOUND).pollInterval(Duration.ofMillis(500)).until(() ->
                "succeeded".equals(store.evaluation(id).orElseThrow().status()));
        EvalResult expected = EvalFixtures.evaluateDirectly(p);
        assertEquals(expected.accuracy(), ((Number) store.evaluation(id).orElseThrow().metrics().get("accuracy"))
                .doubleValue(), 1e-12);
        assertEquals(1, store.evaluationsOfJob("acme", jobId).size(), "taken over, not duplicated");
    }

    @AfterEach
    void s3BackUp() {
        if (!"UP".equals(devstack.health().get("s3"))) {
            devstack.start("s3");
        }
    }

    private static void awaitReady() {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200));
    }

    private static double retried() {
        Matcher m = RETRIED.matcher(given().get("/q/metrics").then().statusCode(200).extract().asString());
        return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
    }
}
