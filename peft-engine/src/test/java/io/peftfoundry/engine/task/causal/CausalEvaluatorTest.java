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
}
