package io.peftfoundry.engine.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HostDropout}: the mask's statistics (keep rate within 5 standard deviations of 1-p, kept values scaled by
 * exactly 1/(1-p), neighbouring elements — the two lanes of one draw — independent), its gradient, and its
 * repeatability from the engine RNG's seed.
 */
class HostDropoutTest {

    private static final int N = 1 << 20;

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void keepsEachElementWithProbabilityOneMinusPScaledByItsInverseAndNeighboursIndependently() {
        double p = 0.1;
        float[] x = gaussian(N, 1);
        float[] y;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            y = HostDropout.apply(m.create(x, new Shape(16, N / 16)), p).toFloatArray();
        }
        int kept = 0;
        int bothKept = 0;
        for (int i = 0; i < N; i++) {
            if (y[i] != 0f) {
                kept++;
                assertEquals(x[i] / (1 - p), y[i], 1e-6 * Math.abs(x[i]) + 1e-7, "element " + i);
                if (i % 2 == 1 && y[i - 1] != 0f) {
                    bothKept++;
                }
            }
        }
        double q = 1 - p;
        double sd = Math.sqrt(N * q * p);
        assertTrue(Math.abs(kept - N * q) < 5 * sd, "kept " + kept + " of " + N + ", expected " + N * q);
        // the pairs (2i, 2i+1) come from one 64-bit draw: both kept with probability q^2 if the lanes are independent
        double pairs = N / 2.0;
        double pairSd = Math.sqrt(pairs * q * q * (1 - q * q));
        assertTrue(Math.abs(bothKept - pairs * q * q) < 5 * pairSd, "both kept " + bothKept + " of " + pairs);
    }

    @Test
    void gradientIsTheUpstreamGradientTimesTheMask() {
        float[] x = gaussian(4096, 2);
        float[] g = gaussian(4096, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x, new Shape(64, 64));
            xa.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Engine.getInstance().setRandomSeed(11);
                NDArray ya = HostDropout.apply(xa, 0.25);
                y = ya.toFloatArray();
                gc.backward(ya.mul(m.create(g, new Shape(64, 64))).sum());
            }
            float[] dx = xa.getGradient().toFloatArray();
            for (int i = 0; i < x.length; i++) {
                float mask = y[i] == 0f ? 0f : y[i] / x[i];
                assertEquals(g[i] * mask, dx[i], 1e-5, "element " + i);
            }
        }
    }

    @Test
    void theSameEngineSeedGivesTheSameMaskAndTheNextDrawADifferentOne() {
        float[] x = gaussian(10_000, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x);
            Engine.getInstance().setRandomSeed(5);
            float[] first = HostDropout.apply(xa, 0.5).toFloatArray();
            float[] second = HostDropout.apply(xa, 0.5).toFloatArray();
            Engine.getInstance().setRandomSeed(5);
            float[] again = HostDropout.apply(xa, 0.5).toFloatArray();
            assertArrayEquals(first, again);
            assertNotEquals(java.util.Arrays.hashCode(first), java.util.Arrays.hashCode(second));
        }
    }

    @Test
    void zeroProbabilityReturnsTheInputAndOutOfRangeIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(new float[] {1, 2, 3});
            assertSame(xa, HostDropout.apply(xa, 0));
            assertThrows(IllegalArgumentException.class, () -> HostDropout.apply(xa, 1.0));
            assertThrows(IllegalArgumentException.class, () -> HostDropout.apply(xa, -0.1));
        }
    }
}
