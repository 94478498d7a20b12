package io.peftfoundry.engine.task.causal;

/**
 * One training sequence: token ids and, per token, whether it is a loss target (1) or context only (0).
 * Position t's target is predicted from positions &lt; t, so position 0 is never a target.
 */
public record TokenSequence(long[] ids, long[] targets) {

    public TokenSequence {
        if (ids.length != targets.length) {
            throw new IllegalArgumentException("ids and targets differ in length");
        }
    }

    public int length() {
        return ids.length;
    }

    /** Every token after the first is a target (continued pretraining). */
    public static TokenSequence allTargets(long[] ids) {
        long[] t = new long[ids.length];
        java.util.Arrays.fill(t, 1L);
        if (t.length > 0) {
            t[0] = 0;
        }
        return new TokenSequence(ids, t);
    }

    public long targetCount() {
        long n = 0;
        for (int i = 1; i < targets.length; i++) {
            n += targets[i];
        }
        return n;
    }
}
