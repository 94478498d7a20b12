package io.peftfoundry.systemtests;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Benchmark (run by {@code bench/job-pipeline/dispatch-latency}, skipped otherwise), with idle workers, two numbers:
 * <ul>
 *   <li>{@code post}: from {@code POST /v1/fine_tuning/jobs} (validation, the job + outbox rows, the relay's wake-up
 *   and publish) to the job's {@code running} status event — what a user waits for;</li>
 *   <li>{@code kafka}: from a job request sent on {@code foundry.jobs.requested} directly to the same event — the
 *   worker's share alone.</li>
 * </ul>
 * Jobs are sent one at a time, each a single training step, and the next is sent only after the previous ended, so a
 * worker is always idle when a request arrives. Both instants are taken in this JVM (request sent, event read), so the
 * figure includes the consumer's poll, the outcome and lease queries, and the event's trip back.
 */
@EnabledIfSystemProperty(named = "foundry.bench", matches = "true")
class DispatchLatencyIT {

    @BeforeAll
    static void start() throws Exception {
        JobPipelineIT.startPlatform();
    }

    @AfterAll
    static void stop() throws Exception {
        JobPipelineIT.stopPlatform();
    }

    private static String specJson() {
        return """
                {"model": "%s", "training_file": "%s", "method": {"type": "lora"},
                 "hyperparameters": {"epochs": 1, "batch_size": 16, "max_seq_length": 32, "max_steps": 1,
                                     "eval_every_steps": 0, "checkpoint_every_steps": 0}}"""
                .formatted(JobPipelineIT.modelId, JobPipelineIT.trainingFileId);
    }

    /** POST → running: the whole path through job-api's outbox relay. */
    @Test
    void postToRunningEvent() throws Exception {
        String body = specJson();
        measure("post", "POST -> running", () -> {
            long t0 = System.nanoTime();
            String jobId = JobPipelineIT.submit(body);
            return new Sent(jobId, t0);
        });
    }

    /** Request on Kafka → running: the worker's share. */
    @Test
    void requestToRunningEvent() throws Exception {
        JobSpec spec = JobSpecs.parse(specJson());
        measure("kafka", "request -> running", () -> {
            String jobId = "ftjob-bench-" + UUID.randomUUID();
            String value = JobPipelineIT.JSON.writeValueAsString(
                    new JobRequested(jobId, JobPipelineIT.TENANT, 1, spec, null));
            long t0 = System.nanoTime();
            JobPipelineIT.send(Topics.JOBS_REQUESTED, jobId, value);
            return new Sent(jobId, t0);
        });
    }

    private record Sent(String jobId, long nanos) {
    }

    private interface Submission {
        Sent send() throws Exception;
    }

    private static void measure(String mode, String what, Submission submission) throws Exception {
        int warmup = Integer.getInteger("foundry.bench.warmup", 3);
        int jobs = Integer.getInteger("foundry.bench.jobs", 30);
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < warmup + jobs; i++) {
            Sent sent = submission.send();
            JobPipelineIT.events.awaitStatus(sent.jobId(), "running", Duration.ofMinutes(2));
            Long t1 = JobPipelineIT.events.firstRunningNanos(sent.jobId());
            assertNotNull(t1);
            JobPipelineIT.events.awaitEnd(sent.jobId(), Duration.ofMinutes(3));
            if (i >= warmup) {
                millis.add((t1 - sent.nanos()) / 1e6);
            }
        }
        Collections.sort(millis);
        String result = String.format(java.util.Locale.ROOT,
                "{\"mode\": \"%s\", \"jobs\": %d, \"p50_ms\": %.1f, \"p99_ms\": %.1f, \"min_ms\": %.1f, "
                        + "\"max_ms\": %.1f}",
                mode, millis.size(), rank(millis, 0.50), rank(millis, 0.99), millis.get(0),
                millis.get(millis.size() - 1));
        System.out.println("[bench] dispatch latency " + what + ": " + result);
        Path out = ServiceProcess.repoRoot().resolve("system-tests/target/system-tests/dispatch-latency-" + mode
                + ".json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, result + "\n");
    }

    /** Nearest-rank percentile of sorted values. */
    private static double rank(List<Double> sorted, double p) {
        int k = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, k - 1)));
    }
}
