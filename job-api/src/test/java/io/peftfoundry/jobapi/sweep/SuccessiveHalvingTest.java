package io.peftfoundry.jobapi.sweep;

import io.peftfoundry.jobapi.sweep.SuccessiveHalving.Child;
import io.peftfoundry.jobapi.sweep.SuccessiveHalving.Decision;
import io.peftfoundry.jobapi.sweep.SuccessiveHalving.Eval;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asynchronous successive halving's decisions on hand-made validation curves. */
class SuccessiveHalvingTest {

    private static final double[] RUNG = {1.0 / 3};

    private static Child running(String id, double lossAtRung) {
        // 30 steps: the rung is step 10; evaluated at 5 (before the rung) and 10
        return new Child(id, true, 30, List.of(new Eval(5, 9.0), new Eval(10, lossAtRung)), 0);
    }

    /** Six children at the rung together, losses 1…6: the three worst (4, 5, 6) are stopped, ⌈6/2⌉ = 3 go on. */
    @Test
    void sixChildrenAtTheRungTogetherLoseTheirWorstHalf() {
        List<Child> children = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            children.add(running("job-" + i, i));
        }
        List<Decision> d = SuccessiveHalving.decide(children, RUNG);
        assertEquals(6, d.size());
        assertEquals(List.of("job-4", "job-5", "job-6"), d.stream().filter(Decision::stop).map(Decision::jobId).toList());
    }

    /** A child evaluated only before the rung has no value there yet: nothing is decided for it. */
    @Test
    void childBeforeTheRungIsNotJudged() {
        Child early = new Child("early", true, 30, List.of(new Eval(5, 0.1)), 0);
        assertTrue(SuccessiveHalving.decide(List.of(early), RUNG).isEmpty());
    }

    /**
     * Children one after another (fewer workers than children): the first to reach the rung goes on; a later worse
     * one is compared with the finished ones and stopped; a later better one goes on.
     */
    @Test
    void laterChildIsJudgedAgainstFinishedOnes() {
        Child finished1 = new Child("a", false, 30, List.of(new Eval(10, 1.0), new Eval(30, 0.5)), 1);
        Child finished2 = new Child("b", false, 30, List.of(new Eval(10, 2.0), new Eval(30, 1.5)), 1);
        Decision worse = SuccessiveHalving.decide(List.of(finished1, finished2, running("c", 3.0)), RUNG).get(0);
        assertTrue(worse.stop(), "3.0 ranks 3rd of 3: outside the best ⌈3/2⌉ = 2");
        Decision better = SuccessiveHalving.decide(List.of(finished1, finished2, running("d", 1.5)), RUNG).get(0);
        assertFalse(better.stop());
        assertEquals(2, better.rank(), "1.5 ranks between 1.0 and 2.0");
    }

    /** Two of six children at the rung: below the cohort of four, nothing is judged yet (not even the worse one). */
    @Test
    void nothingIsJudgedBeforeACohortOfFourReachedTheRung() {
        Child queued = new Child("q", false, 0, List.of(), 0);
        List<Child> children = List.of(running("a", 1.0), running("b", 2.0), queued, queued, queued, queued);
        assertTrue(SuccessiveHalving.decide(children, RUNG).isEmpty());
    }

    /** A child already judged at the rung is not judged there again, even if better ones arrive later. */
    @Test
    void judgedChildIsNotJudgedAgain() {
        Child judged = new Child("x", true, 30, List.of(new Eval(10, 5.0)), 1);
        List<Decision> d = SuccessiveHalving.decide(List.of(judged, running("w", 0.5), running("y", 1.0),
                running("z", 2.0)), RUNG);
        assertFalse(d.stream().anyMatch(x -> x.jobId().equals("x")));
    }
}
