package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
