package io.peftfoundry.engine.task.causal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Continued pretraining input: documents joined into one stream, each followed by EOS, cut into
 * blocks of exactly {@code blockLength} tokens (the last, shorter block is kept if it has at least
 * two tokens). Every token after a block's first is a loss target, across document boundaries, as
 * in transformers' {@code group_texts}.
 */
public final class Packing {

    private Packing() {}

    public static List<TokenSequence> pack(List<long[]> documents, long eosId, int blockLength) {
        if (blockLength < 2) {
            throw new IllegalArgumentException("max_seq_length must be at least 2, got " + blockLength);
        }
        int total = 0;
        for (long[] d : documents) {
            total += d.length + 1;
        }
        long[] stream = new long[total];
        int at = 0;
        for (long[] d : documents) {
            System.arraycopy(d, 0, stream, at, d.length);
            at += d.length;
            stream[at++] = eosId;
        }
        List<TokenSequence> out = new ArrayList<>();
        for (int start = 0; start < total; start += blockLength) {
            int end = Math.min(total, start + blockLength);
            if (end - start >= 2) {
                out.add(TokenSequence.allTargets(Arrays.copyOfRange(stream, start, end)));
            }
        }
        return out;
    }
}
