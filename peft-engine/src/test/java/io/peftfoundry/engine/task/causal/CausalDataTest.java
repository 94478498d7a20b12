package io.peftfoundry.engine.task.causal;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CausalDataTest {

    static final long EOS = 9;

    @Test
    void sftTargetsAreTheCompletionAndEos() {
        TokenSequence s = SftEncoder.encode(new long[] {1, 2}, new long[] {3, 4}, EOS, 10);
        assertArrayEquals(new long[] {1, 2, 3, 4, 9}, s.ids());
        assertArrayEquals(new long[] {0, 0, 1, 1, 1}, s.targets());
        assertEquals(3, s.targetCount());
    }

    @Test
    void sftTruncatesTheCompletionAndRejectsPromptsThatFillTheWindow() {
        TokenSequence cut = SftEncoder.encode(new long[] {1, 2}, new long[] {3, 4, 5}, EOS, 4);
        assertArrayEquals(new long[] {1, 2, 3, 4}, cut.ids());
        assertArrayEquals(new long[] {0, 0, 1, 1}, cut.targets());
        assertArrayEquals(new long[] {1, 2, 3}, SftEncoder.encode(new long[] {1, 2}, new long[] {3}, EOS, 3).ids());
        assertNull(SftEncoder.encode(new long[] {1, 2}, new long[] {3}, EOS, 2));
        assertNull(SftEncoder.encode(new long[] {1, 2, 3}, new long[] {3}, EOS, 2));
    }

    @Test
    void packingJoinsDocumentsWithEosIntoFullBlocks() {
        List<TokenSequence> blocks = Packing.pack(List.of(new long[] {1, 2, 3}, new long[] {4}, new long[] {5, 6}), EOS, 3);
        // stream 1 2 3 9 4 9 5 6 9 → [1 2 3] [9 4 9] [5 6 9]
        assertEquals(3, blocks.size());
        assertArrayEquals(new long[] {1, 2, 3}, blocks.get(0).ids());
        assertArrayEquals(new long[] {9, 4, 9}, blocks.get(1).ids());
        assertArrayEquals(new long[] {5, 6, 9}, blocks.get(2).ids());
        assertArrayEquals(new long[] {0, 1, 1}, blocks.get(2).targets());
        // stream 1 2 9 3 9 (5 tokens) in blocks of 4 → [1 2 9 3], and [9] is too short to predict anything
        List<TokenSequence> tail = Packing.pack(List.of(new long[] {1, 2}, new long[] {3}), EOS, 4);
        assertEquals(1, tail.size());
    }

    @Test
    void batchesArePaddedOnTheRightWithoutTargets() {
        CausalBatch b = CausalBatch.of(List.of(SftEncoder.encode(new long[] {1}, new long[] {2, 3}, EOS, 8),
                SftEncoder.encode(new long[] {1}, new long[] {}, EOS, 8)), 0);
        assertArrayEquals(new long[] {1, 9, 0, 0}, b.ids()[1]);
        assertArrayEquals(new long[] {1, 1, 0, 0}, b.mask()[1]);
        assertArrayEquals(new long[] {0, 1, 0, 0}, b.targets()[1]);
        assertEquals(6, b.tokens());
    }
}
