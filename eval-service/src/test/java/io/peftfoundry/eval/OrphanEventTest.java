package io.peftfoundry.eval;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.eval.service.EvalStore;
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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code succeeded} event of a job whose request never reached {@code foundry.jobs.requested} (a job of another
 * platform on the same Kafka, a test's leftover, a forged event) must not hold up the events behind it for the whole
 * spec wait: once the spec feed has been read to its end, the spec cannot arrive. The test profile's wait is five
 * minutes ({@code %test.foundry.eval.spec-wait}), longer than this test's bound, so the job behind the orphan is
 * evaluated in time only if the orphan gives up for that reason. (No test profile of its own: a second Quarkus start
 * in one JVM cannot load PyTorch's native library again.)
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class OrphanEventTest {

    private static final Duration BOUND = Duration.ofSeconds(120);

    @Inject
    EvalStore store;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void anEventOfAJobNeverQueuedGivesUpOnceTheSpecFeedIsReadAndTheNextJobIsEvaluated() throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200));
        String run = UUID.randomUUID().toString().substring(0, 8);
        EvalFixtures.Prepared p = EvalFixtures.prepare(Files.createTempDirectory("eval-orphan-"), 47, run,
                new LoraConfig(4, 8, 0.0, List.of("query", "value"), false));
        String orphan = "ftjob-orphan-" + run;
        String jobId = "ftjob-after-orphan-" + run;
        try (KafkaProducer<String, String> kafka = EvalFixtures.producer(bootstrap)) {
            // the orphan's event first, on the partition its key hashes to; then a real job's request and event
            EvalFixtures.sendStatus(kafka, orphan, 1_000_001, "succeeded", Map.of("adapter", p.adapterId()));
            EvalFixtures.sendRequested(kafka, jobId, p.spec());
            EvalFixtures.sendStatus(kafka, jobId, 1_000_001, "succeeded", Map.of("adapter", p.adapterId()));
        }
        await().atMost(BOUND).pollInterval(Duration.ofMillis(500)).until(() ->
                store.evaluationsOfJob("acme", jobId).stream().anyMatch(e -> "succeeded".equals(e.status())));
        assertTrue(store.findSpec(orphan).isEmpty(), "the orphan has no spec");
        assertTrue(store.evaluationsOfJob("acme", orphan).isEmpty(), "and was not evaluated");
    }
}
