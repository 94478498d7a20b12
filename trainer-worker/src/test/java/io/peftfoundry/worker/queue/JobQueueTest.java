package io.peftfoundry.worker.queue;

import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The claim against the real PostgreSQL: priority first, fair share between tenants, quotas, one claimer per job, and
 * takeover of an expired lease. Jobs are queued and claimed directly; training is not involved, so each case runs in
 * milliseconds. The queue tables are emptied before each case (this worker's consumer is off in tests).
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class JobQueueTest {

    private static final Duration LONG = Duration.ofMinutes(5);

    @Inject
    JobQueue queue;

    @Inject
    RunEndings endings;

    @Inject
    DataSource dataSource;

    @BeforeEach
    void emptyQueue() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM job_queue");
            s.executeUpdate("DELETE FROM tenant_quotas");
        }
    }

    @Test
    void aHighPriorityJobSubmittedBehindTwentyNormalOnesIsClaimedNext() throws Exception {
        for (int i = 0; i < 20; i++) {
            queue.enqueue(request("acme", "normal"));
        }
        JobRequested high = request("acme", "high");
        queue.enqueue(high);
        JobRequested low = request("acme", "low");
        queue.enqueue(low);

        List<String> order = queue.claimOrder();
        assertEquals(22, order.size());
        assertEquals(high.jobId(), order.get(0));
        assertEquals(low.jobId(), order.get(21));
        assertEquals(high.jobId(), claim("w1").request().jobId());
    }

    @Test
    void twoTenantsWithTwentyAndOneQueuedJobsTakeTurns() throws Exception {
        List<String> big = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            JobRequested r = request("big", "normal");
            queue.enqueue(r);
            big.add(r.jobId());
        }
        JobRequested small = request("small", "normal");
        queue.enqueue(small);

        // one worker, one job at a time: each run ends before the next claim
        List<String> claimed = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            JobQueue.Claim c = claim("w1");
            claimed.add(c.request().jobId());
            finish(c, "w1");
        }
        assertEquals(big.get(0), claimed.get(0));
        assertEquals(small.jobId(), claimed.get(1), "the small tenant's only job comes second, not 21st");
        assertEquals(big.subList(1, 20), claimed.subList(2, 21));
    }

    @Test
    void tenantsAlternateWhileBothHaveQueuedWork() throws Exception {
        for (int i = 0; i < 6; i++) {
            queue.enqueue(request("big", "normal"));
        }
        for (int i = 0; i < 3; i++) {
            queue.enqueue(request("small", "normal"));
        }
        List<String> tenants = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            JobQueue.Claim c = claim("w1");
            tenants.add(c.request().tenant());
            finish(c, "w1");
        }
        assertEquals(List.of("big", "small", "big", "small", "big", "small", "big", "big", "big"), tenants);
    }

    @Test
    void aTenantRunningMoreJobsWaitsBehindOneRunningFewer() throws Exception {
        // four workers claim without finishing: two tenants get two each, whatever the enqueue order
        for (int i = 0; i < 4; i++) {
            queue.enqueue(request("first", "normal"));
        }
        for (int i = 0; i < 4; i++) {
            queue.enqueue(request("second", "normal"));
        }
        List<String> tenants = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            tenants.add(claim("w" + w).request().tenant());
        }
        assertEquals(2, Collections.frequency(tenants, "first"), "claims: " + tenants);
        assertEquals(2, Collections.frequency(tenants, "second"), "claims: " + tenants);
    }

    @Test
    void aTenantAtItsQuotaWaitsWhileOthersRun() throws Exception {
        queue.setQuota("capped", 2);
        for (int i = 0; i < 5; i++) {
            queue.enqueue(request("capped", "high"));
        }
        JobRequested other = request("free", "low");
        queue.enqueue(other);

        JobQueue.Claim first = claim("w1");
        JobQueue.Claim second = claim("w2");
        assertEquals("capped", first.request().tenant());
        assertEquals("capped", second.request().tenant());
        // the capped tenant's high jobs stay queued: the low job of another tenant runs instead
        assertEquals(other.jobId(), claim("w3").request().jobId());
        assertTrue(queue.claim("w4", LONG).isEmpty(), "the capped tenant is at its quota of 2");

        finish(first, "w1");
        assertEquals("capped", claim("w4").request().tenant(), "a finished job frees a slot of the quota");

        queue.setQuota("capped", null);
        assertEquals("capped", claim("w5").request().tenant(), "no quota: unlimited");
    }

    @Test
    void concurrentClaimsNeverHandOneJobToTwoWorkers() throws Exception {
        Set<String> queued = new HashSet<>();
        for (int i = 0; i < 24; i++) {
            JobRequested r = request("t" + (i % 3), "normal");
            queue.enqueue(r);
            queued.add(r.jobId());
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                String worker = "worker-" + w;
                results.add(pool.submit(() -> {
                    List<String> mine = new ArrayList<>();
                    for (Optional<JobQueue.Claim> c = queue.claim(worker, LONG); c.isPresent();
                         c = queue.claim(worker, LONG)) {
                        mine.add(c.get().request().jobId());
                    }
                    return mine;
                }));
            }
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : results) {
                all.addAll(f.get());
            }
            assertEquals(24, all.size(), "each job claimed once: " + all);
            assertEquals(queued, new HashSet<>(all));
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Eight workers claim at the same moment, ten times each, from a queue of 200: every claim returns a job. A claim
     * whose statement started before another worker's claim of the same job committed used to lock that job anyway
     * (the row is unlocked by then, and the lease is in another table), fail to take its lease and come back empty —
     * leaving the worker idle for a poll interval (500 ms) with 199 jobs queued (ClaimContentionBench found it).
     */
    @Test
    void concurrentClaimersOnAFullQueueAllGetAJob() throws Exception {
        for (int i = 0; i < 200; i++) {
            queue.enqueue(request("t" + (i % 4), "normal"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try {
            List<Future<Integer>> empties = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                String worker = "worker-" + w;
                empties.add(pool.submit(() -> {
                    go.await();
                    int empty = 0;
                    for (int i = 0; i < 10; i++) {
                        if (queue.claim(worker, LONG).isEmpty()) {
                            empty++;
                        }
                    }
                    return empty;
                }));
            }
            go.countDown();
            int empty = 0;
            for (Future<Integer> f : empties) {
                empty += f.get();
            }
            assertEquals(0, empty, "claims that came back empty with at least 120 jobs still queued");
            assertEquals(120, queue.depth());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Eight workers claim and end jobs at once, with no training time between, until the queue is empty: each of the
     * 400 jobs is claimed exactly once. A claim whose statement started before another worker claimed <em>and ended</em>
     * a job used to lock that job's row anyway (only the row's own columns are re-checked, and the queue state was
     * checked in the ranking, not on the row), find its lease released and take it: a finished (or paused) job claimed
     * again (ClaimContentionBench found 185 in 3,486 claims with 8 claimers holding 0-20 ms; 2 of 200 here).
     */
    @Test
    void workersThatEndJobsAtOnceNeverClaimAnEndedJobAgain() throws Exception {
        Set<String> queued = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            JobRequested r = request("t" + (i % 4), "normal");
            queue.enqueue(r);
            queued.add(r.jobId());
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                String worker = "worker-" + w;
                results.add(pool.submit(() -> {
                    go.await();
                    List<String> mine = new ArrayList<>();
                    for (Optional<JobQueue.Claim> c = queue.claim(worker, LONG); c.isPresent();
                         c = queue.claim(worker, LONG)) {
                        mine.add(c.get().request().jobId());
                        finish(c.get(), worker);
                    }
                    return mine;
                }));
            }
            go.countDown();
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : results) {
                all.addAll(f.get());
            }
            assertEquals(queued, new HashSet<>(all));
            assertEquals(400, all.size(), "claims of 400 jobs, each ended right after its claim");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aDeadWorkersJobIsClaimedByAnotherOnceItsLeaseExpires() throws Exception {
        JobRequested r = request("acme", "normal");
        queue.enqueue(r);
        JobQueue.Claim first = queue.claim("dies", Duration.ofMillis(300)).orElseThrow();
        assertEquals(r.jobId(), first.request().jobId());
        assertTrue(queue.claim("survivor", LONG).isEmpty(), "a live lease keeps the job from other workers");
        assertEquals(0, queue.depth());

        Thread.sleep(600);
        assertEquals(1, queue.depth(), "an expired lease puts the job back into the queue depth");
        JobQueue.Claim takeover = queue.claim("survivor", LONG).orElseThrow();
        assertEquals(r.jobId(), takeover.request().jobId());
        assertEquals("dies", takeover.previous().workerId());
        assertFalse(takeover.previous().released(), "the dead worker never released: a lost run");
    }

    @Test
    void aRedeliveredRequestChangesNothingAndAnEndedJobIsNeverQueuedAgain() throws Exception {
        JobRequested r = request("acme", "normal");
        assertEquals(JobQueue.Enqueued.QUEUED, queue.enqueue(r));
        assertEquals(JobQueue.Enqueued.UNCHANGED, queue.enqueue(r));
        JobQueue.Claim c = claim("w1");
        // paused: out of the queue until a resume request (a higher attempt) queues it again
        endings.paused("w1", event(r.jobId(), JobStatus.PAUSED));
        assertTrue(queue.claimOrder().isEmpty());
        assertEquals(JobQueue.Enqueued.UNCHANGED, queue.enqueue(r), "the old request does not undo the pause");
        JobRequested resume = new JobRequested(r.jobId(), r.tenant(), 2, r.spec(), "ckpt-1");
        assertEquals(JobQueue.Enqueued.REQUEUED, queue.enqueue(resume));
        JobQueue.Claim resumed = claim("w2");
        assertEquals("ckpt-1", resumed.request().resumeFrom());
        assertTrue(resumed.previous().released(), "the paused run released its lease: not a lost run");

        endings.terminal("w2", new RunEndings.Outcome(JobStatus.SUCCEEDED, 2, "adapter-1", null),
                event(r.jobId(), JobStatus.SUCCEEDED));
        assertEquals(JobQueue.Enqueued.ALREADY_FINISHED, queue.enqueue(resume));
        assertTrue(queue.claimOrder().isEmpty());
        assertTrue(c.request().jobId().equals(r.jobId()));
    }

    /**
     * Capacity-aware placement: a worker offering 1 GiB skips the queued job estimated at 3 GiB (ahead of it in the
     * order) and claims the next one it can hold; a 4 GiB worker then claims the large one. A worker that loads only
     * gpt2 claims none of the bert jobs, and a request without resources (from before) is claimable by anyone.
     */
    @Test
    void aWorkerSkipsJobsItCannotHoldAndALargerOneTakesThem() throws Exception {
        long gib = 1L << 30;
        JobRequested large = withResources(request("tenant-a", "normal"), "bert", 3 * gib);
        JobRequested small = withResources(request("tenant-a", "normal"), "bert", gib / 2);
        JobRequested unknown = request("tenant-a", "normal");
        queue.enqueue(large);
        queue.enqueue(small);
        queue.enqueue(unknown);
        assertEquals(List.of(large.jobId(), small.jobId(), unknown.jobId()), queue.claimOrder());

        JobQueue.Capacity gpt2Only = new JobQueue.Capacity(8 * gib, List.of("gpt2"));
        assertEquals(unknown.jobId(), queue.claim("gpt2-worker", LONG, gpt2Only).orElseThrow().request().jobId(),
                "the gpt2-only worker skips both bert jobs and takes the one without resources");
        JobQueue.Capacity oneGib = new JobQueue.Capacity(gib, List.of("bert", "gpt2"));
        assertEquals(small.jobId(), queue.claim("small-worker", LONG, oneGib).orElseThrow().request().jobId(),
                "the 1 GiB worker skips the 3 GiB job ahead of it");
        assertTrue(queue.claim("small-worker-2", LONG, oneGib).isEmpty(), "only the 3 GiB job is left");
        JobQueue.Capacity fourGib = new JobQueue.Capacity(4 * gib, List.of("bert"));
        JobQueue.Claim big = queue.claim("large-worker", LONG, fourGib).orElseThrow();
        assertEquals(large.jobId(), big.request().jobId());
        assertEquals(3 * gib, big.request().resources().memoryBytes(), "the resources travel with the request");
    }

    /**
     * Longest first within a tenant's turn: one tenant's jobs of one priority queued at the same moment are claimed by
     * estimated training time, longest first; a job without an estimate counts as 0 s.
     */
    @Test
    void aTenantsJobsQueuedTogetherAreClaimedLongestFirst() throws Exception {
        Instant t0 = Instant.now().minusSeconds(3600);
        JobRequested shortJob = withSeconds(request("acme", "normal"), 5.0);
        JobRequested longJob = withSeconds(request("acme", "normal"), 600.0);
        JobRequested unknown = request("acme", "normal");
        JobRequested middle = withSeconds(request("acme", "normal"), 60.0);
        for (JobRequested r : List.of(shortJob, longJob, unknown, middle)) {
            queue.enqueue(r);
            queuedAt(r, t0);
        }
        assertEquals(List.of(longJob.jobId(), middle.jobId(), shortJob.jobId(), unknown.jobId()), queue.claimOrder());
        assertEquals(longJob.jobId(), claim("w1").request().jobId());
    }

    /**
     * The bound on overtaking: a job queued 60 s after a 10 s job overtakes it when it is expected to train 100 s (90 s
     * longer, more than the 60 s between them); one queued 200 s after does not (the difference is under 200 s), so no
     * job waits behind an endless stream of longer ones.
     */
    @Test
    void aLongerJobOvertakesAnEarlierOneOnlyWhenItIsLongerByMoreThanTheTimeBetweenThem() throws Exception {
        Instant t0 = Instant.now().minusSeconds(3600);
        JobRequested early = withSeconds(request("acme", "normal"), 10.0);
        JobRequested soonAfter = withSeconds(request("acme", "normal"), 100.0);
        JobRequested muchLater = withSeconds(request("acme", "normal"), 100.0);
        queue.enqueue(early);
        queuedAt(early, t0);
        queue.enqueue(soonAfter);
        queuedAt(soonAfter, t0.plusSeconds(60));
        queue.enqueue(muchLater);
        queuedAt(muchLater, t0.plusSeconds(200));
        assertEquals(List.of(soonAfter.jobId(), early.jobId(), muchLater.jobId()), queue.claimOrder());
    }

    /**
     * Longest first chooses which of a tenant's jobs runs in its turn, not whose turn it is: tenant A queues a 10 s and a
     * 1,000 s job, tenant B one 10 s job a second later. One worker runs A's long job, then B's (B's turn, although A's
     * short job is longer-waiting by the turn time), then A's short one.
     */
    @Test
    void longestFirstPicksWithinATenantsTurnAndLeavesTheTurnsBetweenTenantsAlone() throws Exception {
        Instant t0 = Instant.now().minusSeconds(3600);
        JobRequested aShort = withSeconds(request("tenant-a", "normal"), 10.0);
        JobRequested aLong = withSeconds(request("tenant-a", "normal"), 1000.0);
        JobRequested b = withSeconds(request("tenant-b", "normal"), 10.0);
        queue.enqueue(aShort);
        queuedAt(aShort, t0);
        queue.enqueue(aLong);
        queuedAt(aLong, t0);
        queue.enqueue(b);
        queuedAt(b, t0.plusSeconds(1));
        List<String> claimed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JobQueue.Claim c = claim("w1");
            claimed.add(c.request().jobId());
            finish(c, "w1");
        }
        assertEquals(List.of(aLong.jobId(), b.jobId(), aShort.jobId()), claimed);
    }

    private static JobRequested withSeconds(JobRequested r, double seconds) {
        return new JobRequested(r.jobId(), r.tenant(), r.attempt(), r.spec(), r.resumeFrom(),
                new io.peftfoundry.contracts.resources.JobResources(null, null, seconds));
    }

    private void queuedAt(JobRequested r, Instant at) throws Exception {
        try (Connection c = dataSource.getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("UPDATE job_queue SET enqueued_at = ? WHERE job_id = ?")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(at));
            ps.setString(2, r.jobId());
            assertEquals(1, ps.executeUpdate());
        }
    }

    private static JobRequested withResources(JobRequested r, String family, long memoryBytes) {
        return new JobRequested(r.jobId(), r.tenant(), r.attempt(), r.spec(), r.resumeFrom(),
                new io.peftfoundry.contracts.resources.JobResources(family, memoryBytes));
    }

    private JobQueue.Claim claim(String worker) throws Exception {
        return queue.claim(worker, LONG).orElseThrow(() -> new AssertionError("nothing claimable for " + worker));
    }

    private void finish(JobQueue.Claim c, String worker) throws Exception {
        endings.terminal(worker, new RunEndings.Outcome(JobStatus.SUCCEEDED, c.request().attempt(), null, null),
                event(c.request().jobId(), JobStatus.SUCCEEDED));
    }

    private static JobEvent event(String jobId, JobStatus status) {
        return new JobEvent(jobId, 1_000_001, JobEventType.STATUS, status, Map.of("test", true), Instant.now());
    }

    private static JobRequested request(String tenant, String priority) {
        String jobId = "ftjob-" + UUID.randomUUID();
        return new JobRequested(jobId, tenant, 1, JobSpecs.parse(
                "{\"model\":\"m\",\"training_file\":\"file-1\",\"priority\":\"" + priority + "\"}"), null);
    }
}
