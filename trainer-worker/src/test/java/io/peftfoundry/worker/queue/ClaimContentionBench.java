package io.peftfoundry.worker.queue;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.AgroalConnectionPoolConfiguration;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.resources.JobResources;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.worker.lease.LeaseRepository;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Benchmark of the claim under contention ({@code bench/scheduling/run --claims}; skipped unless
 * {@code -Dfoundry.bench=true}, and its name matches none of surefire's default patterns, so {@code ./foundry test}
 * never runs it). N claimers (1, 8, 16, 32, 64) stand for N workers: each has its own connection pool (Agroal, the
 * worker's settings: validate on borrow) and its own {@link JobQueue}, {@link LeaseRepository} and {@link RunEndings} —
 * the classes and SQL a worker runs — against the real PostgreSQL, and loops as {@code ClaimLoop} does: claim, hold the
 * job for a random "training" time, end it ({@link RunEndings#terminal}), claim again at once; with nothing claimable,
 * wait for a wake or {@code claim-poll-every} (500 ms). A feeder keeps the queue at a fixed depth of jobs from six
 * tenants (one with half the jobs, one with a quota of 2) at three priorities.
 *
 * <p>Measured: claim latency (slot free → claim returned with a job, poll waits included), the claim call alone, the
 * first claims of all N at once (a burst), claims per second; checked: no job is claimed twice, no claim takes a lower
 * priority while a higher-priority job (of a tenant below its quota) was claimable during the whole call, the quota
 * tenant never runs more than 2. Then the wake-up path: N idle claimers on an empty queue, one job inserted, one
 * claimer woken (as the consumer that queued it wakes its own loop) or none (every idle one finds it at its poll).
 * Writes {@code target/bench/claims.json}; asserts only the correctness checks, never a time.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@EnabledIfSystemProperty(named = "foundry.bench", matches = "true")
class ClaimContentionBench {

    private static final Duration TTL = Duration.ofMinutes(5);
    private static final long POLL_MILLIS = 500; // foundry.worker.claim-poll-every
    private static final String QUOTA_TENANT = "tenant-5";
    private static final int QUOTA = 2;

    @Inject
    DataSource dataSource;

    private final List<AgroalDataSource> pools = new CopyOnWriteArrayList<>();
    private final List<Long> finishTimes = Collections.synchronizedList(new ArrayList<>());

    @Test
    void claimLatencyAndOrderWithOneToSixtyFourConcurrentClaimers() throws Exception {
        int[] claimers = Arrays.stream(System.getProperty("foundry.bench.claimers", "1,8,16,32,64").split(","))
                .map(String::trim).mapToInt(Integer::parseInt).toArray();
        int seconds = Integer.getInteger("foundry.bench.seconds", 20);
        int warmup = Integer.getInteger("foundry.bench.warmup", 3);
        int depth = Integer.getInteger("foundry.bench.depth", 200);
        String[] hold = System.getProperty("foundry.bench.hold-ms", "200-1000").split("-");
        long holdMin = Long.parseLong(hold[0]);
        long holdMax = Long.parseLong(hold[1]);
        int wakeRounds = Integer.getInteger("foundry.bench.wake-rounds", 20);

        List<String> rows = new ArrayList<>();
        try {
            for (int n : claimers) {
                Contention r = contention(n, depth, holdMin, holdMax, warmup, seconds);
                System.out.println("[bench] claims: " + r.json());
                rows.add(r.json());
                assertEquals(0, r.duplicates, "a job was claimed twice with " + n + " claimers");
                assertEquals(0, r.inversions, "a lower priority was claimed over a claimable higher one, " + n
                        + " claimers: " + r.inversionExample);
                assertEquals(0, r.quotaExceeded, "the quota tenant ran more than " + QUOTA + " jobs at once");
            }
            List<String> wakeRows = new ArrayList<>();
            for (int n : new int[] {1, 8, 64}) {
                for (boolean woken : new boolean[] {true, false}) {
                    String w = wakeUp(n, woken, wakeRounds);
                    System.out.println("[bench] wake-up: " + w);
                    wakeRows.add(w);
                }
            }
            Path out = Path.of("target", "bench", "claims.json");
            Files.createDirectories(out.getParent());
            Files.writeString(out, "{\"started\": \"" + Instant.now() + "\", \"depth\": " + depth
                    + ", \"hold_ms\": [" + holdMin + ", " + holdMax + "], \"seconds\": " + seconds
                    + ", \"warmup_s\": " + warmup + ", \"poll_ms\": " + POLL_MILLIS
                    + ",\n \"contention\": [\n  " + String.join(",\n  ", rows) + "\n ],\n \"wake_up\": [\n  "
                    + String.join(",\n  ", wakeRows) + "\n ]}\n");
        } finally {
            for (AgroalDataSource p : pools) {
                p.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ contention

    /** One claim that returned a job. Times are System.nanoTime(). */
    private record ClaimRecord(String jobId, String claimer, String tenant, int priority, long slotFree,
                               long callStart, long returned, long finishStart) {
    }

    /** A job the feeder queued: its priority, tenant and when its enqueue had committed. */
    private record Queued(String tenant, int priority, long committed) {
    }

    private static final class Contention {
        int claimers;
        int claims;
        double claimsPerSecond;
        double[] latencyMs;
        double[] callMs;
        double[] burstMs;
        double[] finishMs;
        int emptyCalls;
        int minDepth;
        int duplicates;
        int inversions;
        String inversionExample = "";
        int quotaExceeded;
        int maxQuotaRunning;
        double measuredSeconds;
        double loadBefore;
        double loadAfter;
        long doneRowsAfter;

        String json() {
            return String.format(Locale.ROOT, "{\"claimers\": %d, \"claims\": %d, \"measured_s\": %.1f,"
                            + " \"claims_per_s\": %.1f, \"latency_ms\": %s, \"call_ms\": %s, \"burst_ms\": %s,"
                            + " \"finish_ms\": %s, \"empty_calls\": %d, \"min_depth\": %d, \"duplicates\": %d,"
                            + " \"inversions\": %d,"
                            + " \"quota_max_running\": %d, \"quota_exceeded\": %d, \"done_rows_after\": %d,"
                            + " \"load_before\": %.2f, \"load_after\": %.2f}",
                    claimers, claims, measuredSeconds, claimsPerSecond, stats(latencyMs), stats(callMs),
                    stats(burstMs), stats(finishMs), emptyCalls, minDepth, duplicates, inversions, maxQuotaRunning,
                    quotaExceeded, doneRowsAfter, loadBefore, loadAfter);
        }
    }

    /** One worker's claim loop (ClaimLoop's policy) on its own pool. */
    private final class Claimer {
        final String id;
        final JobQueue queue;
        final RunEndings endings;
        final Semaphore wake = new Semaphore(0);
        final SplittableRandom random;

        Claimer(String id, long seed) throws Exception {
            this.id = id;
            AgroalDataSource pool = pool();
            try (Connection warm = pool.getConnection()) {
                // a running worker's pool holds a connection already (its consumer, lease renewals): open it now
            }
            this.queue = new JobQueue(pool, new LeaseRepository(pool));
            this.endings = new RunEndings(pool);
            this.random = new SplittableRandom(seed);
        }

        void wake() {
            if (wake.availablePermits() == 0) {
                wake.release();
            }
        }

        void finish(JobQueue.Claim c) throws Exception {
            endings.terminal(id, new RunEndings.Outcome(JobStatus.SUCCEEDED, c.request().attempt(), null, null),
                    new JobEvent(c.request().jobId(), 1_000_001, JobEventType.STATUS, JobStatus.SUCCEEDED,
                            Map.of("bench", true), Instant.now()));
        }
    }

    private Contention contention(int n, int depth, long holdMin, long holdMax, int warmupSeconds, int seconds)
            throws Exception {
        clean();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO tenant_quotas (tenant, max_running) VALUES ('" + QUOTA_TENANT + "', "
                    + QUOTA + ")");
        }
        Map<String, Queued> queued = new ConcurrentHashMap<>();
        JobQueue feederQueue = queueOnOwnPool();
        SplittableRandom feedRandom = new SplittableRandom(15L * n);
        for (int i = 0; i < depth; i++) {
            enqueue(feederQueue, feedRandom, queued);
        }
        List<Claimer> workers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            workers.add(new Claimer("bench-worker-" + i, 1000L * n + i));
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean feeding = new AtomicBoolean(true);
        AtomicInteger minDepth = new AtomicInteger(depth);
        Thread feeder = new Thread(() -> {
            try {
                while (feeding.get()) {
                    int now = feederQueue.depth();
                    if (running.get()) {
                        minDepth.accumulateAndGet(now, Math::min);
                    }
                    int missing = depth - now;
                    for (int i = 0; i < missing; i++) {
                        enqueue(feederQueue, feedRandom, queued);
                    }
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException("feeder failed", e);
            }
        }, "bench-feeder");
        feeder.start();

        List<ClaimRecord> records = Collections.synchronizedList(new ArrayList<>());
        List<Long> calls = Collections.synchronizedList(new ArrayList<>());
        List<Long> burst = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger empty = new AtomicInteger();
        Map<String, String> claimedBy = new ConcurrentHashMap<>();
        AtomicInteger duplicates = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        long[] goAt = new long[1];
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (Claimer w : workers) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    long slotFree = goAt[0];
                    boolean first = true;
                    while (running.get()) {
                        long callStart = System.nanoTime();
                        Optional<JobQueue.Claim> claim = w.queue.claim(w.id, TTL);
                        long returned = System.nanoTime();
                        calls.add(returned - callStart);
                        if (claim.isEmpty()) {
                            empty.incrementAndGet();
                            w.wake.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS);
                            continue;
                        }
                        if (first) {
                            burst.add(returned - goAt[0]);
                            first = false;
                        }
                        JobRequested r = claim.get().request();
                        if (claimedBy.putIfAbsent(r.jobId(), w.id) != null) {
                            duplicates.incrementAndGet();
                        }
                        Thread.sleep(holdMin + w.random.nextLong(holdMax - holdMin + 1));
                        long finishStart = System.nanoTime();
                        w.finish(claim.get());
                        long finished = System.nanoTime();
                        records.add(new ClaimRecord(r.jobId(), w.id, r.tenant(), r.spec().withDefaults().priority()
                                .rank(), slotFree, callStart, returned, finishStart));
                        finishTimes.add(finished - finishStart);
                        w.wake.drainPermits();
                        slotFree = finished;
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, w.id);
            t.start();
            threads.add(t);
        }
        double loadBefore = load();
        goAt[0] = System.nanoTime();
        go.countDown();
        long warmEnd = goAt[0] + TimeUnit.SECONDS.toNanos(warmupSeconds);
        Thread.sleep(TimeUnit.SECONDS.toMillis(warmupSeconds + seconds));
        long measureEnd = System.nanoTime();
        double loadAfter = load();
        running.set(false);
        for (Claimer w : workers) {
            w.wake();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.MINUTES.toMillis(2));
        }
        feeding.set(false);
        feeder.join();
        if (!failures.isEmpty()) {
            throw new AssertionError("a claimer failed", failures.get(0));
        }

        Contention r = new Contention();
        r.claimers = n;
        r.measuredSeconds = (measureEnd - warmEnd) / 1e9;
        List<ClaimRecord> measured = records.stream()
                .filter(c -> c.returned() >= warmEnd && c.returned() <= measureEnd).toList();
        r.claims = measured.size();
        r.claimsPerSecond = r.claims / r.measuredSeconds;
        r.latencyMs = millis(measured.stream().mapToLong(c -> c.returned() - c.slotFree()).toArray());
        r.callMs = millis(calls.stream().mapToLong(Long::longValue).toArray());
        r.burstMs = millis(burst.stream().mapToLong(Long::longValue).toArray());
        r.finishMs = millis(finishTimes.stream().mapToLong(Long::longValue).toArray());
        finishTimes.clear();
        r.emptyCalls = empty.get();
        r.minDepth = minDepth.get();
        r.duplicates = duplicates.get();
        priorityInversions(records, queued, r);
        quotaOverlap(records, r);
        r.loadBefore = loadBefore;
        r.loadAfter = loadAfter;
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FROM job_queue WHERE state = 'done'")) {
            rs.next();
            r.doneRowsAfter = rs.getLong(1);
        }
        return r;
    }

    /**
     * A claim of priority p is an inversion when some job of a higher priority (of a tenant without a quota) had been
     * queued — its enqueue committed — before the claim call started, and the call that first claimed it started after
     * this call returned: it was unlocked, unleased and visible for the whole call, so the call should have taken it.
     */
    private static void priorityInversions(List<ClaimRecord> records, Map<String, Queued> queued, Contention r) {
        Map<String, Long> claimStart = new ConcurrentHashMap<>();
        for (ClaimRecord c : records) {
            claimStart.merge(c.jobId(), c.callStart(), Math::min);
        }
        List<Map.Entry<String, Queued>> candidates = queued.entrySet().stream()
                .filter(e -> !e.getValue().tenant().equals(QUOTA_TENANT)).toList();
        for (ClaimRecord c : records) {
            if (c.priority() == 0) {
                continue;
            }
            for (Map.Entry<String, Queued> h : candidates) {
                Queued q = h.getValue();
                if (q.priority() < c.priority() && q.committed() < c.callStart()
                        && claimStart.getOrDefault(h.getKey(), Long.MAX_VALUE) > c.returned()) {
                    if (r.inversions == 0) {
                        r.inversionExample = c.jobId() + " (priority " + c.priority() + ") claimed by "
                                + c.claimer() + " while " + h.getKey() + " (priority " + q.priority()
                                + ") was claimable";
                    }
                    r.inversions++;
                    break;
                }
            }
        }
    }

    /**
     * The quota tenant's running jobs, counted over [claim returned, finish started] — inside the lease's real life
     * ([claim commit, finish commit]), so an overlap found here was real (one that was real can be missed).
     */
    private static void quotaOverlap(List<ClaimRecord> records, Contention r) {
        List<long[]> events = new ArrayList<>();
        for (ClaimRecord c : records) {
            if (c.tenant().equals(QUOTA_TENANT)) {
                events.add(new long[] {c.returned(), 1});
                events.add(new long[] {c.finishStart(), -1});
            }
        }
        events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int running = 0;
        for (long[] e : events) {
            running += (int) e[1];
            r.maxQuotaRunning = Math.max(r.maxQuotaRunning, running);
            if (running > QUOTA) {
                r.quotaExceeded++;
            }
        }
    }

    /**
     * A job of one of six tenants (tenant-0 half of them, the others a tenth each; tenant-5 has a quota of 2) at
     * priority high (10 %), normal (70 %) or low (20 %), estimated at 10 s to 1 h.
     */
    private static void enqueue(JobQueue queue, SplittableRandom random, Map<String, Queued> queued)
            throws Exception {
        int t = random.nextInt(10);
        String tenant = "tenant-" + (t < 5 ? 0 : t - 4);
        int p = random.nextInt(10);
        String priority = p == 0 ? "high" : p < 8 ? "normal" : "low";
        String jobId = "ftjob-bench-" + UUID.randomUUID();
        JobRequested request = new JobRequested(jobId, tenant, 1, JobSpecs.parse(
                "{\"model\":\"m\",\"training_file\":\"file-1\",\"priority\":\"" + priority + "\"}"), null,
                new JobResources(null, null, 10.0 + random.nextInt(3600)));
        queue.enqueue(request);
        queued.put(jobId, new Queued(tenant, p == 0 ? 0 : p < 8 ? 1 : 2, System.nanoTime()));
    }

    // -------------------------------------------------------------------------------------------------- wake-up

    /**
     * {@code n} idle claimers on an empty queue; {@code rounds} times: after a random 300–900 ms, one job is queued and
     * (when {@code woken}) one random claimer woken, as the worker whose consumer queued it does; the time from the
     * enqueue's commit to the claim returning it, whichever claimer got it.
     */
    private String wakeUp(int n, boolean woken, int rounds) throws Exception {
        clean();
        JobQueue feederQueue = queueOnOwnPool();
        List<Claimer> workers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            workers.add(new Claimer("bench-idle-" + i, 7L * n + i));
        }
        Map<String, Long> returned = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger empty = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (Claimer w : workers) {
            Thread t = new Thread(() -> {
                try {
                    // start at a random phase of the poll, as workers started at different times do
                    Thread.sleep(w.random.nextLong(POLL_MILLIS));
                    while (running.get()) {
                        Optional<JobQueue.Claim> claim = w.queue.claim(w.id, TTL);
                        if (claim.isPresent()) {
                            returned.put(claim.get().request().jobId(), System.nanoTime());
                            w.finish(claim.get());
                            w.wake.drainPermits();
                            continue;
                        }
                        empty.incrementAndGet();
                        w.wake.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, w.id);
            t.start();
            threads.add(t);
        }
        SplittableRandom random = new SplittableRandom(n * 31L + (woken ? 1 : 0));
        long[] latency = new long[rounds];
        long started = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            Thread.sleep(300 + random.nextInt(601));
            String jobId = "ftjob-wake-" + UUID.randomUUID();
            feederQueue.enqueue(new JobRequested(jobId, "tenant-0", 1, JobSpecs.parse(
                    "{\"model\":\"m\",\"training_file\":\"file-1\"}"), null));
            long committed = System.nanoTime();
            if (woken) {
                workers.get(random.nextInt(n)).wake();
            }
            long deadline = committed + TimeUnit.SECONDS.toNanos(30);
            while (!returned.containsKey(jobId) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Long got = returned.get(jobId);
            if (got == null) {
                throw new AssertionError("job " + jobId + " was not claimed by " + n + " idle claimers within 30 s");
            }
            latency[i] = got - committed;
        }
        double idleSeconds = (System.nanoTime() - started) / 1e9;
        running.set(false);
        for (Claimer w : workers) {
            w.wake();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.MINUTES.toMillis(1));
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("an idle claimer failed", failures.get(0));
        }
        return String.format(Locale.ROOT, "{\"claimers\": %d, \"woken\": %s, \"latency_ms\": %s,"
                        + " \"empty_polls_per_s\": %.1f}", n, woken, stats(millis(latency)),
                empty.get() / idleSeconds);
    }

    // -------------------------------------------------------------------------------------------------- support

    /** A pool as the worker's (application.properties: max 8, validate on borrow, 5 s acquisition timeout). */
    private AgroalDataSource pool() throws Exception {
        var config = ConfigProvider.getConfig();
        String url = config.getValue("quarkus.datasource.jdbc.url", String.class);
        String user = config.getValue("quarkus.datasource.username", String.class);
        String password = config.getValue("quarkus.datasource.password", String.class);
        AgroalDataSource pool = AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                .connectionPoolConfiguration(p -> p.maxSize(8).validateOnBorrow(true)
                        .connectionValidator(AgroalConnectionPoolConfiguration.ConnectionValidator.defaultValidator())
                        .acquisitionTimeout(Duration.ofSeconds(5))
                        .connectionFactoryConfiguration(f -> f.jdbcUrl(url).principal(new NamePrincipal(user))
                                .credential(new SimplePassword(password)))));
        pools.add(pool);
        return pool;
    }

    private JobQueue queueOnOwnPool() throws Exception {
        AgroalDataSource pool = pool();
        return new JobQueue(pool, new LeaseRepository(pool));
    }

    private void clean() throws Exception {
        for (AgroalDataSource p : pools) {
            p.close();
        }
        pools.clear();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM job_queue");
            s.executeUpdate("DELETE FROM job_leases");
            s.executeUpdate("DELETE FROM job_outcomes");
            s.executeUpdate("DELETE FROM tenant_quotas");
            s.executeUpdate("DELETE FROM event_outbox");
            s.execute("VACUUM ANALYZE job_queue");
            s.execute("VACUUM ANALYZE job_leases");
        }
    }

    private static double load() throws Exception {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    private static double[] millis(long[] nanos) {
        double[] ms = new double[nanos.length];
        for (int i = 0; i < nanos.length; i++) {
            ms[i] = nanos[i] / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    /** n, p50, p95 and max by nearest rank (with fewer than 20 samples p95 is the max: said so by n). */
    private static String stats(double[] sorted) {
        if (sorted.length == 0) {
            return "{\"n\": 0}";
        }
        return String.format(Locale.ROOT, "{\"n\": %d, \"p50\": %.1f, \"p95\": %.1f, \"max\": %.1f}", sorted.length,
                rank(sorted, 0.50), rank(sorted, 0.95), sorted[sorted.length - 1]);
    }

    private static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
