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

/**
 * {@link HfLinear#linear} on (B, T, in) input with a bias runs flattened to 2-D (one addmm); its output and its
 * gradients must be those of {@code y = x W^T + b} computed here element by element in double precision.
 */
class HfLinearTest {

    private static final int B = 2, T = 3, IN = 5, OUT = 4;

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void threeDimensionalInputWithBiasGivesRowwiseProductPlusBiasAndItsGradients() {
        Random r = new Random(3);
        float[] x = gaussian(r, B * T * IN);
        float[] w = gaussian(r, OUT * IN);
        float[] b = gaussian(r, OUT);
        float[] g = gaussian(r, B * T * OUT); // the upstream gradient dL/dy: L = sum(y * g)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x, new Shape(B, T, IN));
            NDArray wa = m.create(w, new Shape(OUT, IN));
            NDArray ba = m.create(b, new Shape(OUT));
            NDArray ga = m.create(g, new Shape(B, T, OUT));
            xa.setRequiresGradient(true);
            wa.setRequiresGradient(true);
            ba.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ya = HfLinear.linear(xa, wa, ba);
                assertEquals(new Shape(B, T, OUT), ya.getShape());
                y = ya.toFloatArray();
                gc.backward(ya.mul(ga).sum());
            }
            float[] dx = xa.getGradient().toFloatArray();
            float[] dw = wa.getGradient().toFloatArray();
            float[] db = ba.getGradient().toFloatArray();

            double[] ey = new double[B * T * OUT];
            double[] edx = new double[B * T * IN];
            double[] edw = new double[OUT * IN];
            double[] edb = new double[OUT];
            for (int row = 0; row < B * T; row++) {
                for (int o = 0; o < OUT; o++) {
                    double s = b[o];
                    double go = g[row * OUT + o];
                    for (int i = 0; i < IN; i++) {
                        s += (double) x[row * IN + i] * w[o * IN + i];
                        edx[row * IN + i] += go * w[o * IN + i];
                        edw[o * IN + i] += go * x[row * IN + i];
                    }
                    ey[row * OUT + o] = s;
                    edb[o] += go;
                }
            }
            // float32 sums of at most 6 products of unit Gaussians: 1e-5 is ~100 float32 ulps at this magnitude
            assertArrayEquals(ey, toDouble(y), 1e-5, "y");
            assertArrayEquals(edx, toDouble(dx), 1e-5, "dL/dx");
            assertArrayEquals(edw, toDouble(dw), 1e-5, "dL/dW");
            assertArrayEquals(edb, toDouble(db), 1e-5, "dL/db");
        }
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
