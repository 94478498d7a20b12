package io.peftfoundry.worker.lease;

import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lease rules against the real PostgreSQL: one holder at a time, takeover only after expiry or release. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class LeaseRepositoryTest {

    private static final Duration LONG = Duration.ofMinutes(5);

    @Inject
    LeaseRepository leases;

    @Inject
    OutcomeRepository outcomes;

    @Test
    void aLiveLeaseKeepsOtherWorkersOut() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        Optional<LeaseRepository.Taken> first = leases.tryAcquire(job, "w1", 1, LONG);
        assertTrue(first.isPresent());
        assertNull(first.get().previous(), "a new job has no previous holder");
        assertTrue(leases.tryAcquire(job, "w2", 1, LONG).isEmpty(), "w1's lease is live");
        assertTrue(leases.renew(job, "w1", LONG));
        assertFalse(leases.renew(job, "w2", LONG), "only the holder renews");
    }

    @Test
    void eightWorkersRacingForOneJobGetOneLease() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String worker = "w" + i;
                Callable<Boolean> take = () -> leases.tryAcquire(job, worker, 1, LONG).isPresent();
                results.add(pool.submit(take));
            }
            int winners = 0;
            for (Future<Boolean> f : results) {
                winners += f.get() ? 1 : 0;
            }
            assertEquals(1, winners);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anExpiredLeaseIsTakenOverAndReportsTheLostHolder() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        assertTrue(leases.tryAcquire(job, "dead", 1, Duration.ofMillis(1)).isPresent());
        leases.update(job, "dead", 1, 0);
        Thread.sleep(50); // past the 1 ms lease
        LeaseRepository.Previous previous = leases.tryAcquire(job, "alive", 1, LONG).orElseThrow().previous();
        assertEquals("dead", previous.workerId());
        assertEquals(1, previous.attempt());
        assertFalse(previous.released(), "the dead worker never released it: a lost run");
        assertFalse(leases.renew(job, "dead", LONG), "the old holder cannot renew any more");
    }

    @Test
    void aReleasedLeaseIsFreeAtOnceAndSaysSo() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        assertTrue(leases.tryAcquire(job, "w1", 1, LONG).isPresent());
        leases.release(job, "w1");
        LeaseRepository.Previous previous = leases.tryAcquire(job, "w2", 2, LONG).orElseThrow().previous();
        assertTrue(previous.released());
        assertEquals("w1", previous.workerId());
    }

    @Test
    void theFirstTerminalOutcomeWins() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        assertTrue(outcomes.terminalStatus(job).isEmpty());
        outcomes.record(job, JobStatus.CANCELLED, 1, "w1", null, null);
        outcomes.record(job, JobStatus.SUCCEEDED, 2, "w2", "adapter-x", null);
        assertEquals(Optional.of(JobStatus.CANCELLED), outcomes.terminalStatus(job));
    }
}
