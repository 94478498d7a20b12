package io.peftfoundry.engine.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.model.HfModule;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fp16 loss scaler on a two-element parameter whose gradient is set by a backward pass. */
class LossScalerTest {

    /** Leaves d(Σ p·c)/dp = c in p's gradient. */
    private static void gradient(Parameter p, float... c) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray k = p.getArray().getManager().create(c);
            gc.backward(p.getArray().mul(k).sum());
        }
    }

    private static Parameter parameter(NDManager m) {
        Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.OTHER).build();
        p.freeze(false);
        HfModule.assign(p, m.create(new float[] {1, 2}));
        return p;
    }

    @Test
    void finiteGradientsAreDividedByTheScale() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m);
            LossScaler s = new LossScaler(true);
            assertEquals(65536.0, s.scale());
            gradient(p, 3 * 65536f, -65536f); // the gradient of a loss scaled by 2^16
            assertTrue(s.unscaleAndCheck(Map.of("w", p), 0));
            assertArrayEquals(new float[] {3, -1}, p.getArray().getGradient().toFloatArray());
            assertEquals(0, s.skippedSteps());
            assertEquals(1, s.goodSteps());
        }
    }

    @Test
    void aNonFiniteGradientSkipsTheStepAndHalvesTheScale() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m);
            LossScaler s = new LossScaler(true);
            gradient(p, Float.POSITIVE_INFINITY, 1f);
            assertFalse(s.unscaleAndCheck(Map.of("w", p), 0));
            assertEquals(32768.0, s.scale());
            assertEquals(1, s.skippedSteps());
            assertEquals(0, s.goodSteps());
            p.getArray().getGradient().subi(p.getArray().getGradient()); // as the loop zeroes them
            gradient(p, Float.NaN, 1f);
            assertFalse(s.unscaleAndCheck(Map.of("w", p), 1));
            assertEquals(16384.0, s.scale());
            assertEquals(2, s.skippedSteps());
        }
    }

    @Test
    void theScaleDoublesAfter2000FiniteStepsInARow() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m);
            LossScaler s = new LossScaler(true);
            gradient(p, 0f, 0f);
            for (int i = 0; i < LossScaler.GROWTH_INTERVAL - 1; i++) {
                assertTrue(s.unscaleAndCheck(Map.of("w", p), i));
            }
            assertEquals(65536.0, s.scale());
            assertTrue(s.unscaleAndCheck(Map.of("w", p), LossScaler.GROWTH_INTERVAL));
            assertEquals(131072.0, s.scale());
            assertEquals(0, s.goodSteps());
        }
    }

    @Test
    void atFp32NothingIsScaledOrSkipped() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m);
            LossScaler s = new LossScaler(false);
            gradient(p, Float.POSITIVE_INFINITY, 5f);
            assertEquals(1.0, s.scale());
            assertTrue(s.unscaleAndCheck(Map.of("w", p), 0));
            assertEquals(5f, p.getArray().getGradient().toFloatArray()[1]);
            assertEquals(0, s.skippedSteps());
        }
    }
}
