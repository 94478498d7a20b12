package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CausalEvaluatorTest {

    @Test
    void perplexityIsExpOfTheTokenWeightedLossWhateverTheBatching() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(Gpt2Config.tiny(30, 16, 1, 2, 16), m, 3, DataType.FLOAT32);
            List<TokenSequence> data = List.of(SftEncoder.encode(new long[] {4, 5, 6}, new long[] {7, 8}, 29, 16),
                    SftEncoder.encode(new long[] {1}, new long[] {2}, 29, 16),
                    TokenSequence.allTargets(new long[] {9, 10, 11, 12, 13, 14}));
            // 3 + 2 + 5 targets; one batch of everything is the reference
            CausalBatch all = CausalBatch.of(data, 0);
            var logits = model.forward(new ParameterStore(m, false),
                    new NDList(CausalBatch.create(m, all.ids()), CausalBatch.create(m, all.mask())), false).head();
            double expected = CausalLmLoss.compute(logits, all.ids(), all.targets()).mean().getFloat();
            CausalEvaluator.Metrics one = CausalEvaluator.evaluate(model, data, 1, 0, m);
            assertEquals(10, one.targets());
            assertEquals(expected, one.loss(), 1e-5);
            assertEquals(Math.exp(expected), one.perplexity(), 1e-4);
            assertEquals(one.loss(), CausalEvaluator.evaluate(model, data, 2, 0, m).loss(), 1e-5);
        }
    }

    @Test
    void perSequenceSumsAddUpToTheWholeSetsMetricsAndDoNotDependOnTheBatch() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(Gpt2Config.tiny(30, 16, 1, 2, 16), m, 3, DataType.FLOAT32);
            List<TokenSequence> data = List.of(SftEncoder.encode(new long[] {4, 5, 6}, new long[] {7, 8}, 29, 16),
                    SftEncoder.encode(new long[] {1}, new long[] {2}, 29, 16),
                    TokenSequence.allTargets(new long[] {9, 10, 11, 12, 13, 14}));
            CausalEvaluator.Metrics whole = CausalEvaluator.evaluate(model, data, 3, 0, m);
            CausalEvaluator.Scored scored = CausalEvaluator.evaluatePerSequence(model, data, 2, 0, m);
            // completion + EOS: 3 and 2 targets; a fully-targeted sequence of 6 tokens: 5
            assertEquals(3, scored.targets()[0]);
            assertEquals(2, scored.targets()[1]);
            assertEquals(5, scored.targets()[2]);
            double nll = 0;
            long hits = 0;
            for (int i = 0; i < 3; i++) {
                // each sequence alone (batch of one, no padding) gives the same sum
                CausalEvaluator.Metrics alone = CausalEvaluator.evaluate(model, data.subList(i, i + 1), 1, 0, m);
                assertEquals(alone.loss() * alone.targets(), scored.nll()[i], 1e-4);
                nll += scored.nll()[i];
                hits += scored.correct()[i];
            }
            assertEquals(whole.loss(), nll / 10, 1e-5);
            assertEquals(whole.tokenAccuracy(), hits / 10.0, 1e-12);
            assertEquals(whole.loss(), scored.metrics().loss(), 1e-5);
        }
    }

    /**
     * Exact match decodes its cases in batches: with a LoRA and a prefix model, prompts of 1-14 tokens, an EOS some
     * rows reach and others do not, every row's greedy tokens and finish reason equal Generator's one prompt at a time,
     * for one row at a time and for four.
     */
    @Test
    void greedyInBatchesEqualsEachPromptAloneWhateverTheRowsAtOnce() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = Gpt2Checkpoint.random(Gpt2Config.tiny(40, 16, 2, 2, 32), m, 5, DataType.FLOAT32);
            Random rnd = new Random(3);
            long[][] prompts = new long[11][];
            for (int i = 0; i < prompts.length; i++) {
                prompts[i] = new long[1 + rnd.nextInt(14)];
                for (int j = 0; j < prompts[i].length; j++) {
                    prompts[i][j] = rnd.nextInt(39);
                }
            }
            for (var method : List.of(new LoraConfig(4, 8, 0, List.of("c_attn"), false), new PrefixConfig(3, 8, true))) {
                CausalModel model = CausalModel.create(DecoderFiles.view(shared), method, m, 9);
                // EOS = the second token the first prompt generates freely: some rows end on it, others run to length
                long eos = new Generator(model.module(), null, -1, model.maxPositions())
                        .generate(m, prompts[0], GenerationConfig.greedy(6)).tokens()[1];
                Generator.Generation[] alone = new Generator.Generation[prompts.length];
                for (int i = 0; i < prompts.length; i++) {
                    alone[i] = new Generator(model.module(), null, eos, model.maxPositions()).generate(m, prompts[i],
                            GenerationConfig.greedy(6));
                }
                assertTrue(java.util.Arrays.stream(alone).anyMatch(g -> g.finishReason().equals("eos"))
                        && java.util.Arrays.stream(alone).anyMatch(g -> g.finishReason().equals("length")),
                        "the cases cover both endings");
                for (int rowsAtOnce : new int[] {1, 4}) {
                    try (BatchDecoder decoder = BatchDecoder.of(model, null, new long[] {eos}, m, null)) {
                        Generator.Generation[] batched = CausalEvaluator.greedyEach(decoder, prompts, 6, rowsAtOnce);
                        for (int i = 0; i < prompts.length; i++) {
                            String what = method.methodType() + ", " + rowsAtOnce + " rows at once, prompt " + i;
                            assertArrayEquals(alone[i].tokens(), batched[i].tokens(), what);
                            assertEquals(alone[i].finishReason(), batched[i].finishReason(), what);
                        }
                        if (rowsAtOnce > 1) {
                            assertTrue(decoder.forwardCalls() < prompts.length * 3L,
                                    decoder.forwardCalls() + " forward calls: the rows were not decoded together");
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowsAtOnceShrinkWhenAPrefillsLogitsWouldPass256Mb() {
        assertEquals(16, CausalEvaluator.rowsAtOnce(new long[][] {new long[60], new long[3]}, 4096));
        assertEquals(1, CausalEvaluator.rowsAtOnce(new long[][] {new long[512]}, 128_256));
        assertEquals(4, CausalEvaluator.rowsAtOnce(new long[][] {new long[100]}, 151_936));
    }
}
