package io.peftfoundry.engine.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TorchOps}, the TorchScript functions DJL 0.36 does not bind, against references computed here: bf16 rounding
 * done on the float bits, products and gradients in double precision, attention written out element by element.
 */
class TorchOpsTest {

    @TempDir
    Path dir;

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** IEEE float → bfloat16 → float, round to nearest even on the bits (finite values). */
    static float bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lsb = (bits >>> 16) & 1;
        bits += 0x7FFF + lsb;
        return Float.intBitsToFloat(bits & 0xFFFF0000);
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void float32ToBf16AndBackRoundsToNearestEvenAndReportsUnknownInDjl() {
        Random r = new Random(1);
        float[] x = gaussian(r, 64);
        x[0] = 1f + 0x1p-8f;        // a tie between two bf16 values: goes to the even one (1.0)
        x[1] = 1f + 3 * 0x1p-8f;    // the other tie: up to 1 + 2^-6
        x[2] = 1e30f;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(x);
            NDArray h = TorchOps.toBf16(a);
            assertTrue(TorchOps.isBf16(h), "a bf16 array reads as DataType.UNKNOWN in DJL 0.36");
            float[] back = TorchOps.toFloat32(h).toFloatArray();
            float[] expected = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                expected[i] = bf16(x[i]);
            }
            assertEquals(1f, expected[0]);
            assertEquals(1f + 0x1p-6f, expected[1]);
            assertArrayEquals(expected, back);
        }
    }

    /** DJL reads "a.b" as a dict entry and "x[]" as a list element: such names must not change what the script gets. */
    @Test
    void argumentsNamedLikeDjlStructureArePassedAsTensorsAndKeepTheirNames() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1.5f, -2.25f}, new Shape(1, 2));
            NDArray w = TorchOps.toBf16(m.create(new float[] {2f, 4f}, new Shape(1, 2)));
            x.setName("layers.0.x");
            w.setName("weights[]");
            assertArrayEquals(new float[] {1.5f * 2 - 2.25f * 4}, TorchOps.linearBf16(x, w).toFloatArray());
            assertEquals("layers.0.x", x.getName());
            assertEquals("weights[]", w.getName());
        }
    }

    @Test
    void bf16LinearGivesTheBf16ProductAndFloat32GradientOfX() {
        int rows = 6, in = 16, out = 5;
        Random r = new Random(2);
        float[] x = gaussian(r, rows * in);
        float[] w = gaussian(r, out * in);
        float[] g = gaussian(r, rows * out); // L = sum(y * g)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x, new Shape(2, 3, in));
            xa.setRequiresGradient(true);
            NDArray wh = TorchOps.toBf16(m.create(w, new Shape(out, in)));
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ya = TorchOps.linearBf16(xa, wh);
                assertEquals(DataType.FLOAT32, ya.getDataType());
                assertEquals(new Shape(2, 3, out), ya.getShape());
                y = ya.toFloatArray();
                gc.backward(ya.mul(m.create(g, new Shape(2, 3, out))).sum());
            }
            float[] dx = xa.getGradient().toFloatArray();
            // reference: x and W rounded to bf16, products summed in double; dL/dx = g W (W in bf16, g in bf16 as the
            // backward of the cast rounds it)
            double[] ey = new double[rows * out];
            double[] edx = new double[rows * in];
            for (int row = 0; row < rows; row++) {
                for (int o = 0; o < out; o++) {
                    double s = 0;
                    for (int i = 0; i < in; i++) {
                        s += (double) bf16(x[row * in + i]) * bf16(w[o * in + i]);
                        edx[row * in + i] += (double) bf16(g[row * out + o]) * bf16(w[o * in + i]);
                    }
                    ey[row * out + o] = s;
                }
            }
            // bf16 keeps 8 significant bits: the output (and the gradient) is rounded to bf16 once more, a relative
            // error ≤ 2^-8 of values that are sums of 16 unit products (|v| ≲ 16), plus bf16 accumulation order:
            // 0.1 bounds it; a float32 product of the unrounded inputs would miss by ~0.05-0.3 on some elements
            assertArrayEquals(ey, toDouble(y), 0.1, "y");
            assertArrayEquals(edx, toDouble(dx), 0.1, "dL/dx");
            double maxDiff = 0;
            for (int i = 0; i < edx.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(edx[i] - dx[i]));
            }
            assertTrue(maxDiff > 0 || edx.length == 0, "the gradient came back through autograd");
        }
    }

    /**
     * The fused bf16 SwiGLU against the same block with float32 intermediates (each product in bf16 through
     * {@link TorchOps#linearBf16}, SiLU and the product in float32): the fused one rounds SiLU's output and the
     * product to bf16 as well, two more roundings of ≤ 2^-8 relative each, which through the down projection's sum of
     * 16 terms stay below 2^-5 of the largest output; the x-gradients agree to the same bound. They must differ at
     * all, or the fused path did not run in bf16.
     */
    @Test
    void fusedBf16SwigluMatchesFloat32IntermediatesWithinBf16Rounding() {
        int rows = 8, hidden = 16, inter = 32;
        Random r = new Random(5);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray gate = TorchOps.toBf16(m.create(gaussian(r, inter * hidden), new Shape(inter, hidden)).mul(0.5f));
            NDArray up = TorchOps.toBf16(m.create(gaussian(r, inter * hidden), new Shape(inter, hidden)).mul(0.5f));
            NDArray down = TorchOps.toBf16(m.create(gaussian(r, hidden * inter), new Shape(hidden, inter)).mul(0.3f));
            float[] x = gaussian(r, rows * hidden);
            float[][] y = new float[2][];
            float[][] dx = new float[2][];
            for (int path = 0; path < 2; path++) {
                NDArray xa = m.create(x, new Shape(1, rows, hidden));
                xa.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray out;
                    if (path == 0) {
                        out = TorchOps.swigluBf16(xa, gate, up, down);
                    } else {
                        NDArray g = TorchOps.linearBf16(xa, gate);
                        NDArray silu = g.mul(ai.djl.nn.Activation.sigmoid(g));
                        out = TorchOps.linearBf16(silu.mul(TorchOps.linearBf16(xa, up)), down);
                    }
                    assertEquals(DataType.FLOAT32, out.getDataType());
                    y[path] = out.toFloatArray();
                    gc.backward(out.sum());
                }
                dx[path] = xa.getGradient().toFloatArray();
            }
            double maxY = 0, maxDx = 0, diffY = 0, diffDx = 0;
            for (int i = 0; i < y[0].length; i++) {
                maxY = Math.max(maxY, Math.abs(y[1][i]));
                diffY = Math.max(diffY, Math.abs(y[0][i] - y[1][i]));
            }
            for (int i = 0; i < dx[0].length; i++) {
                maxDx = Math.max(maxDx, Math.abs(dx[1][i]));
                diffDx = Math.max(diffDx, Math.abs(dx[0][i] - dx[1][i]));
            }
            assertTrue(diffY > 0 && diffY <= Math.pow(2, -5) * maxY, "y: max diff " + diffY + " of max " + maxY);
            assertTrue(diffDx <= Math.pow(2, -5) * maxDx && maxDx > 0, "dx: max diff " + diffDx + " of max " + maxDx);
        }
    }

    @Test
    void causalSdpaEqualsSoftmaxAttentionWrittenOutWithGroupedHeads() {
        int b = 1, h = 4, hkv = 2, t = 5, d = 8;
        double scale = 1 / Math.sqrt(d);
        Random r = new Random(4);
        float[] q = gaussian(r, b * h * t * d);
        float[] k = gaussian(r, b * hkv * t * d);
        float[] v = gaussian(r, b * hkv * t * d);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] o = TorchOps.sdpaCausal(m.create(q, new Shape(b, h, t, d)), m.create(k, new Shape(b, hkv, t, d)),
                    m.create(v, new Shape(b, hkv, t, d)), scale).toFloatArray();
            double[] expected = new double[o.length];
            for (int head = 0; head < h; head++) {
                int kv = head / (h / hkv); // query heads 0,1 share kv head 0; 2,3 share 1 (repeat_interleave)
                for (int i = 0; i < t; i++) {
                    double[] p = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int c = 0; c < d; c++) {
                            s += (double) q[(head * t + i) * d + c] * k[(kv * t + j) * d + c];
                        }
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= i; j++) {
                        p[j] = Math.exp(p[j] - max);
                        z += p[j];
                    }
                    for (int c = 0; c < d; c++) {
                        double s = 0;
                        for (int j = 0; j <= i; j++) {
                            s += p[j] / z * v[(kv * t + j) * d + c];
                        }
                        expected[(head * t + i) * d + c] = s;
                    }
                }
            }
            // float32 attention over ≤ 5 keys of 8-dim unit Gaussians: 1e-5 is ~100 ulps at this magnitude
            assertArrayEquals(expected, toDouble(o), 1e-5);
        }
    }

    /** d/dx of 0.5·x·(1 + tanh(u)), u = c·(x + 0.044715·x³), in double. */
    private static double geluTanhGrad(double x) {
        double c = Math.sqrt(2 / Math.PI);
        double th = Math.tanh(c * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x);
    }

    @Test
    void geluTanhAndItsGradientEqualTheTanhFormulaInDoubleWithin1e6() {
        Random r = new Random(6);
        float[] x = gaussian(r, 257);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 3; // the tails too: tanh saturates past |x| ≈ 3
        }
        float[] g = gaussian(r, x.length); // L = sum(y · g)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x, new Shape(1, x.length));
            xa.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ya = TorchOps.geluTanh(xa);
                y = ya.toFloatArray();
                gc.backward(ya.mul(m.create(g, new Shape(1, x.length))).sum());
            }
            float[] dx = xa.getGradient().toFloatArray();
            double[] ey = new double[x.length];
            double[] edx = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                double v = x[i];
                ey[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                edx[i] = g[i] * geluTanhGrad(v);
            }
            // float32 values of magnitude ≤ ~10: 1e-6 is a few ulps; the exact GELU (erf) misses by up to ~5e-4
            assertArrayEquals(ey, toDouble(y), 1e-6, "y");
            assertArrayEquals(edx, toDouble(dx), 1e-6, "dL/dx");
        }
    }

    @Test
    void siluMulAndItsGradientsEqualTheFormulaInDouble() {
        int n = 96;
        Random r = new Random(7);
        float[] gate = gaussian(r, n);
        float[] up = gaussian(r, n);
        float[] g = gaussian(r, n);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ga = m.create(gate, new Shape(2, 3, 16));
            NDArray ua = m.create(up, new Shape(2, 3, 16));
            ga.setRequiresGradient(true);
            ua.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ya = TorchOps.siluMul(ga, ua);
                y = ya.toFloatArray();
                gc.backward(ya.mul(m.create(g, new Shape(2, 3, 16))).sum());
            }
            double[] ey = new double[n];
            double[] edGate = new double[n];
            double[] edUp = new double[n];
            for (int i = 0; i < n; i++) {
                double s = 1 / (1 + Math.exp(-gate[i]));
                ey[i] = gate[i] * s * up[i];
                edGate[i] = g[i] * up[i] * s * (1 + gate[i] * (1 - s));
                edUp[i] = g[i] * gate[i] * s;
            }
            assertArrayEquals(ey, toDouble(y), 1e-6, "y");
            assertArrayEquals(edGate, toDouble(ga.getGradient().toFloatArray()), 1e-6, "dL/dgate");
            assertArrayEquals(edUp, toDouble(ua.getGradient().toFloatArray()), 1e-6, "dL/dup");
        }
    }

    @Test
    void rmsNormAndItsGradientsInXAndWeightEqualTheFormulaInDouble() {
        int rows = 5, h = 24;
        double eps = 1e-5;
        Random r = new Random(8);
        float[] x = gaussian(r, rows * h);
        float[] w = gaussian(r, h);
        float[] g = gaussian(r, rows * h);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xa = m.create(x, new Shape(1, rows, h));
            NDArray wa = m.create(w, new Shape(h));
            xa.setRequiresGradient(true);
            wa.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                    NDArray e = m.full(new Shape(), (float) eps, DataType.FLOAT32, xa.getDevice())) {
                NDArray ya = TorchOps.rmsNorm(xa, wa, e);
                y = ya.toFloatArray();
                gc.backward(ya.mul(m.create(g, new Shape(1, rows, h))).sum());
            }
            double[] ey = new double[rows * h];
            double[] edx = new double[rows * h];
            double[] edw = new double[h];
            for (int row = 0; row < rows; row++) {
                double ms = 0;
                for (int i = 0; i < h; i++) {
                    ms += (double) x[row * h + i] * x[row * h + i];
                }
                double inv = 1 / Math.sqrt(ms / h + eps);
                double dot = 0; // Σ g·w·x over the row
                for (int i = 0; i < h; i++) {
                    int k = row * h + i;
                    ey[k] = w[i] * x[k] * inv;
                    edw[i] += g[k] * x[k] * inv;
                    dot += g[k] * w[i] * x[k];
                }
                for (int i = 0; i < h; i++) {
                    int k = row * h + i;
                    edx[k] = inv * g[k] * w[i] - inv * inv * inv * x[k] * dot / h;
                }
            }
            assertArrayEquals(ey, toDouble(y), 1e-5, "y");
            assertArrayEquals(edx, toDouble(xa.getGradient().toFloatArray()), 1e-5, "dL/dx");
            assertArrayEquals(edw, toDouble(wa.getGradient().toFloatArray()), 1e-5, "dL/dw");
        }
    }

    @Test
    void mappedFileViewsGiveTheBf16ValuesStoredAtTheirOffset() throws Exception {
        float[] values = {1.5f, -2f, 0.25f, 3f, -0.125f, 96f, 7f, 1f / 3};
        // 8 bytes of something else first, then the values as bf16 (the upper halves of the float bits)
        ByteBuffer buf = ByteBuffer.allocate(8 + 2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(0x0123456789ABCDEFL);
        for (float f : values) {
            buf.putShort((short) (Float.floatToRawIntBits(bf16(f)) >>> 16));
        }
        Path file = dir.resolve("shard 1.bin");
        Files.write(file, buf.array());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray flat = TorchOps.mapBf16(file, Files.size(file) / 2, m);
            NDArray view = TorchOps.viewOf(flat, 8 / 2 + 2, new long[] {2, 3});
            assertEquals(new Shape(2, 3), view.getShape());
            float[] expected = new float[6];
            for (int i = 0; i < 6; i++) {
                expected[i] = bf16(values[2 + i]);
            }
            assertArrayEquals(expected, TorchOps.toFloat32(view).toFloatArray());
        }
    }
}
