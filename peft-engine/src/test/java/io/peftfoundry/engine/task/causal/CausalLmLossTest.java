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

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CausalLmLossTest {

    @Test
    void handComputedTwoTokenVocabulary() {
        try (NDManager m = NDManager.newBaseManager()) {
            // every position gives logits (0, ln 3): p(token 1) = 3/4, p(token 0) = 1/4
            float l3 = (float) Math.log(3);
            NDArray logits = m.create(new float[] {0, l3, 0, l3, 0, l3}, new Shape(1, 3, 2));
            long[][] ids = {{0, 1, 0}};
            // target token 1 (−ln 3/4) and token 0 (−ln 1/4)
            CausalLmLoss.Sums both = CausalLmLoss.compute(logits, ids, new long[][] {{0, 1, 1}});
            assertEquals((Math.log(4.0 / 3) + Math.log(4)) / 2, both.mean().getFloat(), 1e-6);
            assertEquals(2, both.targets());
            assertEquals(1, both.correct()); // argmax is always token 1
            // only the last token is a target (an SFT completion): ln 4
            CausalLmLoss.Sums last = CausalLmLoss.compute(logits, ids, new long[][] {{0, 0, 1}});
            assertEquals(Math.log(4), last.mean().getFloat(), 1e-6);
            assertEquals(0, last.correct());
        }
    }

    /**
     * d(mean NLL)/d logits = (softmax − one-hot(next token)) / targets at the positions that predict a target, and 0
     * elsewhere (the last position, and positions whose next token is not a target).
     */
    @Test
    void gradientWithRespectToLogitsIsSoftmaxMinusOneHotOverTheTargetCount() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] lg = {0.5f, -1f, 2f, 0f, 1f, 1f, -2f, 0.3f, 0.7f, 0f, 0f, 0f};
            NDArray logits = m.create(lg, new Shape(1, 4, 3));
            logits.setRequiresGradient(true);
            long[][] ids = {{2, 0, 1, 2}};
            long[][] targets = {{0, 1, 0, 1}}; // positions 0 and 2 predict targets (tokens 0 and 2)
            try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                gc.backward(CausalLmLoss.compute(logits, ids, targets).mean());
            }
            float[] g = logits.getGradient().toFloatArray();
            double[] expected = new double[12];
            for (int pos : new int[] {0, 2}) {
                double z = 0;
                for (int v = 0; v < 3; v++) {
                    z += Math.exp(lg[pos * 3 + v]);
                }
                for (int v = 0; v < 3; v++) {
                    double p = Math.exp(lg[pos * 3 + v]) / z;
                    expected[pos * 3 + v] = (p - (v == ids[0][pos + 1] ? 1 : 0)) / 2;
                }
            }
            for (int i = 0; i < 12; i++) {
                assertEquals(expected[i], g[i], 1e-6, "dL/dlogit[" + i + "]");
            }
        }
    }

    @Test
    void sftLossCountsCompletionTokensOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2Config c = Gpt2Config.tiny(30, 16, 1, 2, 16);
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(c, m, 3, DataType.FLOAT32);
            TokenSequence s = SftEncoder.encode(new long[] {4, 5, 6}, new long[] {7, 8}, 29, 16);
            CausalBatch b = CausalBatch.of(List.of(s, SftEncoder.encode(new long[] {1}, new long[] {2}, 29, 16)), 0);
            NDArray ids = CausalBatch.create(m, b.ids());
            NDArray logits = model.forward(new ParameterStore(m, false), new NDList(ids, CausalBatch.create(m, b.mask())), false).head();
            CausalLmLoss.Sums sums = CausalLmLoss.compute(logits, b.ids(), b.targets());
            // row 0: 7 | 4 5 6, 8 | … 7, EOS | … 8; row 1: 2 | 1, EOS | 1 2 — five targets, from log-softmax by hand
            float[] lg = logits.toFloatArray();
            double expected = 0;
            int[][] picks = {{0, 2, 7}, {0, 3, 8}, {0, 4, 29}, {1, 0, 2}, {1, 1, 29}};
            for (int[] p : picks) {
                int base = (p[0] * 6 + p[1]) * 30;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < 30; v++) {
                    max = Math.max(max, lg[base + v]);
                }
                double z = 0;
                for (int v = 0; v < 30; v++) {
                    z += Math.exp(lg[base + v] - max);
                }
                expected += -(lg[base + p[2]] - max - Math.log(z));
            }
            assertEquals(5, sums.targets());
            assertEquals(expected / 5, sums.mean().getFloat(), 1e-5);
        }
    }

    /** Training's loss without the accuracy count: the same summed NLL and the same gradient as {@link CausalLmLoss#compute}. */
    @Test
    void nllAloneEqualsTheSummedNllOfComputeInValueAndGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] lg = new float[2 * 4 * 5];
            java.util.Random r = new java.util.Random(9);
            for (int i = 0; i < lg.length; i++) {
                lg[i] = (float) r.nextGaussian();
            }
            long[][] ids = {{1, 4, 0, 3}, {2, 2, 1, 4}};
            long[][] targets = {{0, 1, 1, 0}, {0, 0, 1, 1}};
            float[][] value = new float[2][];
            float[][] grad = new float[2][];
            for (int path = 0; path < 2; path++) {
                NDArray logits = m.create(lg, new Shape(2, 4, 5));
                logits.setRequiresGradient(true);
                try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                    NDArray nll = path == 0 ? CausalLmLoss.nll(logits, ids, targets)
                            : CausalLmLoss.compute(logits, ids, targets).nll();
                    value[path] = new float[] {nll.getFloat()};
                    gc.backward(nll);
                }
                grad[path] = logits.getGradient().toFloatArray();
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(value[1], value[0]);
            org.junit.jupiter.api.Assertions.assertArrayEquals(grad[1], grad[0]);
            float sum = 0;
            for (float g : grad[0]) {
                sum += Math.abs(g);
            }
            org.junit.jupiter.api.Assertions.assertTrue(sum > 0, "a gradient came back");
        }
    }
}
