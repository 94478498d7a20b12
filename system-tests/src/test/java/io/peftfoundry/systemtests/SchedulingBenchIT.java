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
        double[] soloSeconds = null;
        for (int workers : new int[] {1, 2, 4}) {
            JobPipelineIT.setWorkers(workers);
            Result r = run(workers, mix);
            if (soloSeconds == null) {
                soloSeconds = r.runSeconds();
            }
            String result = r.json(soloSeconds);
            System.out.println("[bench] scheduling: " + result);
            all.append(all.length() > 1 ? ",\n" : "\n").append(result);
        }
        Path out = ServiceProcess.repoRoot().resolve("system-tests/target/system-tests/scheduling.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, all.append("\n]\n").toString());
    }

    private record Run(int index, String job, String worker, Instant start, Instant end) {
    }

    /**
     * One configuration's runs. Worker time (workers × makespan) splits exactly into: training (the runs), head (from
     * the first submit to each worker's first start: submitting the batch, dispatch, the first claim), hand-over (between
     * a worker's consecutive runs) and tail (from each worker's last end to the makespan's end: idle because no work was
     * left while others finished).
     */
    private record Result(int workers, int steps, double submitSeconds, double makespan, double busy, double head,
                          double handOver, double tail, int handOvers, double handOverP50, double handOverP95,
                          int workersUsed, double[] runSeconds, String longestLast) {

        String json(double[] solo) {
            double soloBusy = java.util.Arrays.stream(solo).sum();
            return String.format(Locale.ROOT, "{\"workers\": %d, \"jobs\": %d, \"steps\": %d, \"makespan_s\": %.2f,"
                            + " \"busy_s\": %.2f, \"ideal_s\": %.2f, \"efficiency\": %.3f, \"workers_used\": %d,"
                            + " \"handovers\": %d, \"handover_p50_ms\": %.0f, \"handover_p95_ms\": %.0f,"
                            + " \"submit_s\": %.2f, \"head_s\": %.2f, \"handover_s\": %.2f, \"tail_s\": %.2f,"
                            + " \"slowdown_vs_1\": %.3f, \"efficiency_vs_1\": %.3f, \"last_jobs\": \"%s\"}",
                    workers, runSeconds.length, steps, makespan, busy, busy / workers, busy / workers / makespan,
                    workersUsed, handOvers, handOverP50, handOverP95, submitSeconds, head, handOver, tail,
                    busy / soloBusy, soloBusy / workers / makespan, longestLast);
        }
    }

    private static Result run(int workers, List<Integer> mix) throws Exception {
        Instant submitted = Instant.now();
        List<String> ids = new ArrayList<>();
        for (int steps : mix) {
            ids.add(JobPipelineIT.submit(JobPipelineIT.stepsSpec(steps)));
        }
        double submitSeconds = seconds(submitted, Instant.now());
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            JobEvent end = JobPipelineIT.events.awaitEnd(id, Duration.ofMinutes(30));
            assertEquals("succeeded", end.status().wire(), JobPipelineIT.events.summary(id));
            JobEvent running = null;
            for (JobEvent e : JobPipelineIT.events.events(id)) {
                if (e.type() == JobEventType.STATUS && e.status() != null && "running".equals(e.status().wire())) {
                    running = e;
                }
            }
            runs.add(new Run(i, id, String.valueOf(running.data().get("worker")), running.at(), end.at()));
        }
        double busySeconds = runs.stream().mapToDouble(r -> seconds(r.start(), r.end())).sum();
        Instant last = runs.stream().map(Run::end).max(Comparator.naturalOrder()).orElseThrow();
        double makespan = seconds(submitted, last);
        Map<String, List<Run>> byWorker = new LinkedHashMap<>();
        runs.forEach(r -> byWorker.computeIfAbsent(r.worker(), w -> new ArrayList<>()).add(r));
        // hand-over: a worker's job ended while some job had not started yet -> that worker's next start
        List<Double> handOver = new ArrayList<>();
        double head = 0;
        double gaps = 0;
        double tail = 0;
        for (List<Run> own : byWorker.values()) {
            own.sort(Comparator.comparing(Run::start));
            head += seconds(submitted, own.get(0).start());
            tail += seconds(own.get(own.size() - 1).end(), last);
            for (int i = 0; i + 1 < own.size(); i++) {
                Instant free = own.get(i).end();
                gaps += seconds(free, own.get(i + 1).start());
                boolean queued = runs.stream().anyMatch(r -> r.start().isAfter(free));
                if (queued) {
                    handOver.add(seconds(free, own.get(i + 1).start()) * 1000);
                }
            }
        }
        // a worker that never ran a job was idle for the whole makespan (counted as head)
        head += (workers - byWorker.size()) * makespan;
        Collections.sort(handOver);
        double[] runSeconds = runs.stream().sorted(Comparator.comparingInt(Run::index))
                .mapToDouble(r -> seconds(r.start(), r.end())).toArray();
        // the last jobs to end: their steps and running time, to see what the tail waited for
        String lastJobs = runs.stream().sorted(Comparator.comparing(Run::end).reversed()).limit(3)
                .map(r -> mix.get(r.index()) + " steps " + String.format(Locale.ROOT, "%.1f", seconds(r.start(), r.end()))
                        + " s").reduce((a, b) -> a + ", " + b).orElse("");
        return new Result(workers, mix.stream().mapToInt(Integer::intValue).sum(), submitSeconds, makespan,
                busySeconds, head, gaps, tail, handOver.size(), rank(handOver, 0.50), rank(handOver, 0.95),
                byWorker.size(), runSeconds, lastJobs);
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
