package io.peftfoundry.jobapi.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Early stopping of a sweep's hopeless children by asynchronous successive halving (ASHA, Li et al. 2020) on the
 * validation loss, so children need not run in lockstep (a sweep usually has fewer workers than children).
 * <p>A rung sits at a fraction of each child's total steps (default {@link #DEFAULT_RUNGS}). A child's value at a
 * rung is the validation loss of its first evaluation at or after that step. When a running child has a value at a
 * rung it has not been judged at, it is compared with every child that has reached that rung (finished, stopped or
 * running): it goes on if it ranks in the best {@code ⌈n / η⌉} of those {@code n} (η = {@value #ETA}: the better half),
 * otherwise it is stopped. Once judged at a rung a child is not judged there again, so an early child that went on
 * is not stopped later because better ones arrived. Nothing is judged at a rung before a cohort of
 * {@code min(children, }{@value #MIN_COHORT}{@code )} children has reached it: pure ASHA would stop the second child to
 * arrive whenever it is worse than the first, on the evidence of two runs.
 */
public final class SuccessiveHalving {

    public static final double[] DEFAULT_RUNGS = {1.0 / 3};
    public static final int ETA = 2;
    public static final int MIN_COHORT = 4;

    /** A validation evaluation of a child: the step it ran at and its loss. */
    public record Eval(long step, double loss) {}

    /**
     * @param jobId       the child's job
     * @param running     still training (only running children can be stopped)
     * @param totalSteps  the child's total optimizer steps (0 when not known yet)
     * @param evals       its validation evaluations, in step order
     * @param judgedRungs how many rungs it has been judged at already
     */
    public record Child(String jobId, boolean running, long totalSteps, List<Eval> evals, int judgedRungs) {}

    /** A decision for a child at a rung. */
    public record Decision(String jobId, int rung, boolean stop, double loss, int rank, int reached) {}

    private SuccessiveHalving() {}

    /**
     * The decisions due now, rung by rung; children with nothing due are left out.
     *
     * @param children every child of the sweep (queued ones included: they count towards the cohort size)
     */
    public static List<Decision> decide(List<Child> children, double[] rungs) {
        List<Decision> out = new ArrayList<>();
        for (int r = 0; r < rungs.length; r++) {
            int rung = r;
            List<Map.Entry<Child, Double>> reached = new ArrayList<>();
            for (Child c : children) {
                Double v = valueAt(c, rungs[rung]);
                if (v != null) {
                    reached.add(Map.entry(c, v));
                }
            }
            if (reached.size() < Math.min(children.size(), MIN_COHORT)) {
                continue;
            }
            reached.sort(Comparator.<Map.Entry<Child, Double>>comparingDouble(Map.Entry::getValue)
                    .thenComparing(e -> e.getKey().jobId()));
            int keep = (int) Math.ceil(reached.size() / (double) ETA);
            for (int i = 0; i < reached.size(); i++) {
                Child c = reached.get(i).getKey();
                if (!c.running() || c.judgedRungs() != rung) {
                    continue;
                }
                // judged against the children that reached the rung so far, itself included
                out.add(new Decision(c.jobId(), rung, i >= keep, reached.get(i).getValue(), i + 1, reached.size()));
            }
        }
        // a child stopped at rung r is not judged at later rungs in the same round
        List<Decision> result = new ArrayList<>();
        for (Decision d : out) {
            boolean stoppedEarlier = result.stream().anyMatch(x -> x.jobId().equals(d.jobId()) && x.stop());
            if (!stoppedEarlier) {
                result.add(d);
            }
        }
        return result;
    }

    /** The loss of the first evaluation at or after {@code ⌈fraction · totalSteps⌉}, or null. */
    static Double valueAt(Child c, double fraction) {
        if (c.totalSteps() <= 0) {
            return null;
        }
        long at = (long) Math.ceil(fraction * c.totalSteps());
        for (Eval e : c.evals()) {
            if (e.step() >= at && Double.isFinite(e.loss())) {
                return e.loss();
            }
        }
        return null;
    }
}
