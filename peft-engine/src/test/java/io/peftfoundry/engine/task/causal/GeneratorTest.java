package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratorTest {

    static final Gpt2Config C = Gpt2Config.tiny(40, 16, 2, 2, 32);

    /** Greedy decoding the slow way: the whole sequence through the model for every new token, no cache. */
    static long[] argmaxWithoutCache(Gpt2LmHeadModel model, NDManager m, long[] prompt, int n) {
        long[] seq = prompt.clone();
        for (int i = 0; i < n; i++) {
            NDArray logits = model.forward(new ParameterStore(m, false),
                    new NDList(m.create(seq, new Shape(1, seq.length)), null), false).head();
            long next = logits.get("0, -1, :").argMax().toType(DataType.INT64, false).getLong();
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = next;
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    @Test
    void greedyWithCacheEqualsArgmaxSteppingWithoutCache() {
        try (NDManager m = NDManager.newBaseManager()) {
            // a larger init scale so the argmax is far from ties
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(C, m, 11, DataType.FLOAT32);
            long[] prompt = {3, 17, 8, 25};
            long[] slow = argmaxWithoutCache(model, m, prompt, 12);
            // eos id outside the vocabulary: generation runs to max_new_tokens
            Generator g = new Generator(model, null, -1, C.nPositions());
            Generator.Generation fast = g.generate(m, prompt, GenerationConfig.greedy(12));
            assertArrayEquals(slow, fast.tokens());
            assertEquals("length", fast.finishReason());
        }
    }

    @Test
    void stopsAtEosAndAtTheContextLength() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(C, m, 11, DataType.FLOAT32);
            long[] prompt = {3, 17, 8, 25};
            long[] slow = argmaxWithoutCache(model, m, prompt, 6);
            // make the 4th greedy token the EOS: generation returns the three before it
            Generator.Generation g = new Generator(model, null, slow[3], C.nPositions()).generate(m, prompt, GenerationConfig.greedy(20));
            int firstEos = 0;
            while (slow[firstEos] != slow[3]) {
                firstEos++;
            }
            assertArrayEquals(Arrays.copyOf(slow, firstEos), g.tokens());
            assertEquals("eos", g.finishReason());
            // several eos ids (Llama 3 Instruct's list): the first one generated ends it, here the 4th token again
            Generator.Generation any = new Generator(model, null, new long[] {C.vocabSize() + 7, slow[3]}, C.nPositions())
                    .generate(m, prompt, GenerationConfig.greedy(20));
            assertArrayEquals(g.tokens(), any.tokens());
            assertEquals("eos", any.finishReason());
            // n_positions 32: a 4-token prompt leaves room for 28 positions, the last token is never fed back
            Generator.Generation longest = new Generator(model, null, -1, C.nPositions()).generate(m, prompt, GenerationConfig.greedy(100));
            assertEquals(29, longest.tokens().length);
        }
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        float[] logits = {0, (float) Math.log(6), (float) Math.log(3), 0}; // p = 1/11, 6/11, 3/11, 1/11
        Random r = new Random(1);
        // top_p 0.5: the nucleus is token 1 alone
        for (int i = 0; i < 50; i++) {
            assertEquals(1, Generator.pick(logits, new GenerationConfig(1, 1.0, 0.5, List.of(), 0), r));
        }
        // top_p 0.8: tokens 1 and 2 (mass 9/11 ≥ 0.8), both drawn, nothing else
        int[] counts = new int[4];
        for (int i = 0; i < 2000; i++) {
            counts[(int) Generator.pick(logits, new GenerationConfig(1, 1.0, 0.8, List.of(), 0), r)]++;
        }
        assertEquals(0, counts[0] + counts[3]);
        // expected 2000 · 2/3 = 1333 for token 1; 6 standard deviations (≈ 21 each) apart from chance
        assertEquals(1333, counts[1], 130);
        assertEquals(0, Generator.stopAt("abc\n\nQ:", List.of("Q:", "\n\n")) - 3);
    }
}
