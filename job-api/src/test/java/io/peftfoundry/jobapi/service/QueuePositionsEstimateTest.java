package io.peftfoundry.jobapi.service;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The estimated start of a queued job: worker slots free at the running jobs' finishes, jobs ahead take them in turn,
 * each holding its slot for its own calibrated estimate (or the recent mean when it has none).
 */
class QueuePositionsEstimateTest {

    private static final Instant NOW = Instant.parse("2026-12-05T09:00:00Z");

    private static List<Duration> each(int n, long seconds) {
        return Collections.nCopies(n, Duration.ofSeconds(seconds));
    }

    @Test
    void theNextJobStartsWhenTheFirstRunningJobFinishes() {
        List<Instant> slots = List.of(NOW.plusSeconds(300), NOW.plusSeconds(60));
        assertEquals(NOW.plusSeconds(60), QueuePositions.estimateStart(NOW, slots, List.of()));
    }

    @Test
    void jobsAheadHoldTheEarliestSlotsInClaimOrder() {
        // two workers free at +60 s and +300 s; three jobs ahead of 100 s each:
        // #1 takes +60 (-> +160), #2 takes +160 (-> +260), #3 takes +260 (-> +360); this job gets +300
        List<Instant> slots = List.of(NOW.plusSeconds(300), NOW.plusSeconds(60));
        assertEquals(NOW.plusSeconds(300), QueuePositions.estimateStart(NOW, slots, each(3, 100)));
        // a fourth job ahead takes +300 (-> +400): this one then gets +360
        assertEquals(NOW.plusSeconds(360), QueuePositions.estimateStart(NOW, slots, each(4, 100)));
    }

    /**
     * The rule this replaces let every job ahead hold a slot for the recent mean (here 100 s): with one worker free
     * at +60 s and a 1,000 s job (estimate 500 s, jobs take 2× their estimate lately) and a job without an estimate
     * ahead, that gave +260 s. Each job ahead holds its slot for its own calibrated length: 60 + 1,000 + 100 s.
     */
    @Test
    void aLongJobAheadMovesTheStartByItsOwnCalibratedLengthNotByTheMean() {
        // recent succeeded jobs: mean 100 s; those with an estimate took 900 s for an estimated 450 s (ratio 2)
        QueuePositions.HoldTimes holds = QueuePositions.HoldTimes.of(100.0, 900.0, 450.0);
        assertEquals(Duration.ofSeconds(1000), holds.of(500.0), "estimate 500 s x 2");
        assertEquals(Duration.ofSeconds(100), holds.of(null), "no estimate: the recent mean");
        assertEquals(Duration.ofSeconds(100), holds.of(0.0), "an estimate of 0 s is no estimate");
        List<Instant> oneWorker = List.of(NOW.plusSeconds(60));
        List<Duration> ahead = Arrays.asList(holds.of(500.0), holds.of(null));
        assertEquals(NOW.plusSeconds(1160), QueuePositions.estimateStart(NOW, oneWorker, ahead));
        // a short job ahead (estimate 5 s -> 10 s) moves it by 10 s, not by the 100 s mean
        assertEquals(NOW.plusSeconds(70), QueuePositions.estimateStart(NOW, oneWorker, List.of(holds.of(5.0))));
    }

    @Test
    void withoutCalibrationHistoryAnEstimateCountsAsItIsAndAJobWithoutOneIsUnknown() {
        // nothing has succeeded yet: no mean, no ratio
        QueuePositions.HoldTimes none = QueuePositions.HoldTimes.of(null, 0, 0);
        assertEquals(Duration.ofSeconds(30), none.of(30.0));
        assertNull(none.of(null));
        assertEquals(NOW.plusSeconds(30), QueuePositions.estimateStart(NOW, List.of(), List.of(none.of(30.0))));
        assertNull(QueuePositions.estimateStart(NOW, List.of(), Arrays.asList(none.of(30.0), none.of(null))));
        // jobs have succeeded, but none had an estimate: a mean, and estimates are taken as they are
        QueuePositions.HoldTimes meanOnly = QueuePositions.HoldTimes.of(40.0, 0, 0);
        assertEquals(Duration.ofSeconds(30), meanOnly.of(30.0));
        assertEquals(Duration.ofSeconds(40), meanOnly.of(null));
    }

    @Test
    void withNothingRunningTheFirstJobStartsNow() {
        assertEquals(NOW, QueuePositions.estimateStart(NOW, List.of(), List.of()));
    }

    @Test
    void aJobHeldByItsTenantsQuotaWaitsForTheTenantsOwnSlots() {
        // quota 2, both slots busy until +100 s and +400 s; the tenant's first held job (nothing of the tenant queued
        // ahead of it) takes the slot freed at +100 s; the next one, behind a 50 s job of the tenant, gets +150 s
        List<Instant> running = List.of(NOW.plusSeconds(400), NOW.plusSeconds(100));
        assertEquals(NOW.plusSeconds(100), QueuePositions.tenantStart(NOW, running, 2, List.of()));
        assertEquals(NOW.plusSeconds(150), QueuePositions.tenantStart(NOW, running, 2, each(1, 50)));
        // a 250 s job of the tenant ahead holds that slot until +350 s: the next job gets +350 s, not +150 s
        assertEquals(NOW.plusSeconds(350), QueuePositions.tenantStart(NOW, running, 2, each(1, 250)));
        // quota 3 with 2 running: the tenant's next job takes the free slot now and holds it 50 s, so the one after
        // gets it at +50 s, before the running jobs free theirs (+100 s, +400 s)
        assertEquals(NOW, QueuePositions.tenantStart(NOW, running, 3, List.of()));
        assertEquals(NOW.plusSeconds(50), QueuePositions.tenantStart(NOW, running, 3, each(1, 50)));
    }
}
