package io.peftfoundry.systemtests;

import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Benchmark (run by {@code bench/scheduling/run}, skipped otherwise): 24 mixed jobs (1 to 60 optimizer steps on the
 * tiny backbone, a fixed seeded mix) submitted at once to 1, 2 and 4 workers. From the workers' own event times:
 * makespan (first submit to last end) against the ideal (sum of the jobs' running times ÷ workers), and for every
 * moment a worker finished a job while others were still queued, the time until its next job was running.
 */
@EnabledIfSystemProperty(named = "foundry.bench", matches = "true")
class SchedulingBenchIT {

    private static final int[] STEPS = {1, 2, 4, 8, 15, 30, 60};

    @BeforeAll
    static void start() throws Exception {
        JobPipelineIT.startPlatform();
    }

    @AfterAll
    static void stop() throws Exception {
        JobPipelineIT.stopPlatform();
    }

    @Test
    void makespanAndHandOverOnOneTwoAndFourWorkers() throws Exception {
        int jobs = Integer.getInteger("foundry.bench.jobs", 24);
        Random random = new Random(15);
        List<Integer> mix = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            mix.add(STEPS[random.nextInt(STEPS.length)]);
        }
        // one warm-up job per worker configuration's first worker: caches (model, data) and JIT
        JobPipelineIT.setWorkers(1);
        String warm = JobPipelineIT.submit(JobPipelineIT.stepsSpec(1));
        JobPipelineIT.events.awaitEnd(warm, Duration.ofMinutes(5));
        StringBuilder all = new StringBuilder("[");
        for (int workers : new int[] {1, 2, 4}) {
            JobPipelineIT.setWorkers(workers);
            String result = run(workers, mix);
            System.out.println("[bench] scheduling: " + result);
            all.append(all.length() > 1 ? ",\n" : "\n").append(result);
        }
        Path out = ServiceProcess.repoRoot().resolve("system-tests/target/system-tests/scheduling.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, all.append("\n]\n").toString());
    }

    private static String run(int workers, List<Integer> mix) throws Exception {
        Instant submitted = Instant.now();
        List<String> ids = new ArrayList<>();
        for (int steps : mix) {
            ids.add(JobPipelineIT.submit(JobPipelineIT.stepsSpec(steps)));
        }
        record Run(String job, String worker, Instant start, Instant end) {
        }
        List<Run> runs = new ArrayList<>();
        for (String id : ids) {
            JobEvent end = JobPipelineIT.events.awaitEnd(id, Duration.ofMinutes(30));
            assertEquals("succeeded", end.status().wire(), JobPipelineIT.events.summary(id));
            JobEvent running = null;
            for (JobEvent e : JobPipelineIT.events.events(id)) {
                if (e.type() == JobEventType.STATUS && e.status() != null && "running".equals(e.status().wire())) {
                    running = e;
                }
            }
            runs.add(new Run(id, String.valueOf(running.data().get("worker")), running.at(), end.at()));
        }
        double busySeconds = runs.stream().mapToDouble(r -> seconds(r.start(), r.end())).sum();
        Instant last = runs.stream().map(Run::end).max(Comparator.naturalOrder()).orElseThrow();
        double makespan = seconds(submitted, last);
        double ideal = busySeconds / workers;
        // hand-over: a worker's job ended while some job had not started yet -> that worker's next start
        Map<String, List<Run>> byWorker = new LinkedHashMap<>();
        runs.forEach(r -> byWorker.computeIfAbsent(r.worker(), w -> new ArrayList<>()).add(r));
        List<Double> handOver = new ArrayList<>();
        for (List<Run> own : byWorker.values()) {
            own.sort(Comparator.comparing(Run::start));
            for (int i = 0; i + 1 < own.size(); i++) {
                Instant free = own.get(i).end();
                boolean queued = runs.stream().anyMatch(r -> r.start().isAfter(free));
                if (queued) {
                    handOver.add(seconds(free, own.get(i + 1).start()) * 1000);
                }
            }
        }
        Collections.sort(handOver);
        return String.format(Locale.ROOT, "{\"workers\": %d, \"jobs\": %d, \"steps\": %d, \"makespan_s\": %.1f,"
                        + " \"busy_s\": %.1f, \"ideal_s\": %.1f, \"efficiency\": %.3f, \"workers_used\": %d,"
                        + " \"handovers\": %d, \"handover_p50_ms\": %.0f, \"handover_p95_ms\": %.0f}",
                workers, runs.size(), mix.stream().mapToInt(Integer::intValue).sum(), makespan, busySeconds, ideal,
                ideal / makespan, byWorker.size(), handOver.size(), rank(handOver, 0.50), rank(handOver, 0.95));
    }

    private static double seconds(Instant a, Instant b) {
        return Duration.between(a, b).toNanos() / 1e9;
    }

    /** Nearest-rank percentile of sorted values (NaN when there are none). */
    private static double rank(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int k = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, k - 1)));
    }
}
