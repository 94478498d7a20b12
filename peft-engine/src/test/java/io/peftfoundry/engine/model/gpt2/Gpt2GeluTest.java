package io.peftfoundry.engine.model.gpt2;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.model.TorchOps;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** GPT-2's MLP activation: the one-operator tanh-GELU it runs against gelu_new composed from NDArray ops. */
class Gpt2GeluTest {

    @Test
    void fusedTanhGeluEqualsGeluNewComposedFromNdArrayOpsWithin1e6InValueAndRelativeGradient() {
        Random r = new Random(11);
        int n = 4 * 8 * 64;
        float[] x = new float[n];
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (3 * r.nextGaussian());
            g[i] = (float) r.nextGaussian();
        }
        float[][] y = new float[2][];
        float[][] dx = new float[2][];
        try (NDManager m = NDManager.newBaseManager()) {
            for (int path = 0; path < 2; path++) {
                NDArray xa = m.create(x, new Shape(4, 8, 64));
                xa.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray ya = path == 0 ? TorchOps.geluTanh(xa) : geluNewComposed(xa);
                    y[path] = ya.toFloatArray();
                    gc.backward(ya.mul(m.create(g, new Shape(4, 8, 64))).sum());
                }
                dx[path] = xa.getGradient().toFloatArray();
            }
        }
        double diffY = 0, diffDx = 0, maxDx = 0;
        for (int i = 0; i < n; i++) {
            diffY = Math.max(diffY, Math.abs(y[0][i] - y[1][i]));
            diffDx = Math.max(diffDx, Math.abs(dx[0][i] - dx[1][i]));
            maxDx = Math.max(maxDx, Math.abs(dx[1][i]));
        }
        assertTrue(diffY <= 1e-6, "y: max difference " + diffY);
        // the composed backward rounds through ~10 float32 products and sums: relative to the largest gradient
        assertTrue(maxDx > 0 && diffDx <= 1e-6 * maxDx, "dL/dx: max difference " + diffDx + " (largest " + maxDx + ")");
    }

    /** transformers' {@code gelu_new} as it writes it: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), from NDArray ops. */
    private static NDArray geluNewComposed(NDArray x) {
        try (NDArray x2 = x.mul(x); NDArray x3 = x2.mul(x); NDArray c = Ops.scale(x3, 0.044715); NDArray s = x.add(c);
                NDArray inner = Ops.scale(s, Math.sqrt(2.0 / Math.PI)); NDArray th = inner.tanh();
                NDArray one = x.getManager().ones(new Shape(), x.getDataType(), x.getDevice()); NDArray p = th.add(one);
                NDArray xp = x.mul(p)) {
            return Ops.scale(xp, 0.5);
        }
    }
}
