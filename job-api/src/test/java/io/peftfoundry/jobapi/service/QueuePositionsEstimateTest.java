package io.peftfoundry.jobapi.service;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The estimated start of a queued job: worker slots free at the running jobs' finishes, jobs ahead take them in turn. */
class QueuePositionsEstimateTest {

    private static final Instant NOW = Instant.parse("2026-12-05T09:00:00Z");

    @Test
    void theNextJobStartsWhenTheFirstRunningJobFinishes() {
        List<Instant> slots = List.of(NOW.plusSeconds(300), NOW.plusSeconds(60));
        assertEquals(NOW.plusSeconds(60), QueuePositions.estimateStart(NOW, slots, 0, Duration.ofSeconds(100)));
    }

    @Test
    void jobsAheadHoldTheEarliestSlotsForTheTypicalDuration() {
        // two workers free at +60 s and +300 s; three jobs ahead of 100 s each:
        // #1 takes +60 (-> +160), #2 takes +160 (-> +260), #3 takes +260 (-> +360); this job gets +300
        List<Instant> slots = List.of(NOW.plusSeconds(300), NOW.plusSeconds(60));
        assertEquals(NOW.plusSeconds(300), QueuePositions.estimateStart(NOW, slots, 3, Duration.ofSeconds(100)));
        // a fourth job ahead takes +300 (-> +400): this one then gets +360
        assertEquals(NOW.plusSeconds(360), QueuePositions.estimateStart(NOW, slots, 4, Duration.ofSeconds(100)));
    }

    @Test
    void withNothingRunningTheFirstJobStartsNowAndLaterOnesAreUnknownWithoutHistory() {
        assertEquals(NOW, QueuePositions.estimateStart(NOW, List.of(), 0, null));
        assertNull(QueuePositions.estimateStart(NOW, List.of(), 2, null));
    }

    @Test
    void aJobHeldByItsTenantsQuotaWaitsForTheTenantsOwnSlots() {
        // quota 2, both slots busy until +100 s and +400 s; the tenant's 3rd and 4th jobs (slots 3, 4) are held:
        // the 3rd takes the slot freed at +100 s, the 4th the one freed at +100 + 50 = +150 s
        List<Instant> running = List.of(NOW.plusSeconds(400), NOW.plusSeconds(100));
        Duration typical = Duration.ofSeconds(50);
        assertEquals(NOW.plusSeconds(100), QueuePositions.tenantStart(NOW, running, 2, 3, typical));
        assertEquals(NOW.plusSeconds(150), QueuePositions.tenantStart(NOW, running, 2, 4, typical));
        // quota 3 with 2 running: the tenant's next job takes the free slot now and holds it 50 s, so the one after
        // gets it at +50 s, before the running jobs free theirs (+100 s, +400 s)
        assertEquals(NOW, QueuePositions.tenantStart(NOW, running, 3, 3, typical));
        assertEquals(NOW.plusSeconds(50), QueuePositions.tenantStart(NOW, running, 3, 4, typical));
    }
}
