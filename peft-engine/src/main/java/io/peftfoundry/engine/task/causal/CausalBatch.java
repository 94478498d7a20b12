package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.List;

/** Sequences right-padded to the longest: ids, attention mask and loss targets, each (B, T) as plain arrays. */
public record CausalBatch(long[][] ids, long[][] mask, long[][] targets) {

    public static CausalBatch of(List<TokenSequence> seqs, long padId) {
        int n = seqs.size();
        int longest = 1;
        for (TokenSequence s : seqs) {
            longest = Math.max(longest, s.length());
        }
        long[][] ids = new long[n][longest];
        long[][] mask = new long[n][longest];
        long[][] targets = new long[n][longest];
        for (int i = 0; i < n; i++) {
            TokenSequence s = seqs.get(i);
            java.util.Arrays.fill(ids[i], padId);
            System.arraycopy(s.ids(), 0, ids[i], 0, s.length());
            java.util.Arrays.fill(mask[i], 0, s.length(), 1L);
            System.arraycopy(s.targets(), 0, targets[i], 0, s.length());
        }
        return new CausalBatch(ids, mask, targets);
    }

    public int size() {
        return ids.length;
    }

    /** Real (non-padding) tokens. */
    public long tokens() {
        long n = 0;
        for (long[] row : mask) {
            for (long v : row) {
                n += v;
            }
        }
        return n;
    }

    public static NDArray create(NDManager m, long[][] a) {
        int b = a.length;
        int t = a[0].length;
        long[] flat = new long[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(a[i], 0, flat, i * t, t);
        }
        return m.create(flat, new Shape(b, t)).duplicate(); // owned memory, see HfModule.assign
    }
}
