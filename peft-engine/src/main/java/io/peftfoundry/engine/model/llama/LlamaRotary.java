package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding as transformers' LLaMA computes it (the rotate-half convention):
 * {@code inv_freq[i] = 1 / theta^(2i/d)}, angle = position · inv_freq, {@code cos}/{@code sin} of
 * {@code cat(angles, angles)}, and {@code x' = x·cos + rotate_half(x)·sin} with
 * {@code rotate_half([x1, x2]) = [-x2, x1]} over the two halves of the head dimension.
 */
public final class LlamaRotary {

    private LlamaRotary() {}

    /** {@code NDList(cos, sin)}, each (1, 1, T, d), for positions {@code first … first+T-1}. */
    public static NDList cosSin(NDManager m, LlamaConfig c, int first, int t) {
        int d = c.headDim();
        int half = d / 2;
        float[] invFreq = invFreq(c);
        float[] cos = new float[t * d];
        float[] sin = new float[t * d];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) (first + p) * invFreq[i];
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                cos[p * d + i] = cv;
                cos[p * d + half + i] = cv;
                sin[p * d + i] = sv;
                sin[p * d + half + i] = sv;
            }
        }
        // duplicate: owned memory rather than a view of a Java buffer (see HfModule.assign)
        return new NDList(m.create(cos, new Shape(1, 1, t, d)).duplicate(), m.create(sin, new Shape(1, 1, t, d)).duplicate());
    }

    /** {@code NDList(cos, sin)}, each (B, 1, T, d), for per-row positions {@code positions[b·T + i]}. */
    public static NDList cosSin(NDManager m, LlamaConfig c, long[] positions, long batch, int t) {
        int d = c.headDim();
        int half = d / 2;
        float[] invFreq = invFreq(c);
        float[] cos = new float[positions.length * d];
        float[] sin = new float[positions.length * d];
        for (int p = 0; p < positions.length; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) positions[p] * invFreq[i];
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                cos[p * d + i] = cv;
                cos[p * d + half + i] = cv;
                sin[p * d + i] = sv;
                sin[p * d + half + i] = sv;
            }
        }
        return new NDList(m.create(cos, new Shape(batch, 1, t, d)).duplicate(),
                m.create(sin, new Shape(batch, 1, t, d)).duplicate());
    }

    /**
     * The inverse frequencies {@code 1 / theta^(2i/d)} (float32 as transformers computes them), scaled as the
     * config's rope_scaling says: linear divides all by the factor; llama3 divides those with a wavelength above
     * {@code original / low_freq_factor} by the factor, keeps those below {@code original / high_freq_factor}, and
     * blends linearly in {@code original / wavelength} between the two.
     */
    public static float[] invFreq(LlamaConfig c) {
        int d = c.headDim();
        float[] inv = new float[d / 2];
        LlamaConfig.RopeScaling s = c.ropeScaling();
        for (int i = 0; i < inv.length; i++) {
            float base = (float) (1.0 / Math.pow(c.ropeTheta(), (float) (2 * i) / (float) d));
            inv[i] = switch (s.type()) {
                case "linear" -> (float) (base / s.factor());
                case "llama3" -> {
                    double original = s.originalMaxPositions();
                    double wavelen = 2 * Math.PI / base;
                    if (wavelen < original / s.highFreqFactor()) {
                        yield base;
                    }
                    if (wavelen > original / s.lowFreqFactor()) {
                        yield (float) (base / s.factor());
                    }
                    double smooth = (original / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                    yield (float) ((1 - smooth) * base / s.factor() + smooth * base);
                }
                default -> base;
            };
        }
        return inv;
    }

    /** {@code x·cos + rotate_half(x)·sin} for x (B, heads, T, d) (the fourth axis is split). */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        try (NDArray negated = halves.get(1).neg(); NDArray rotated = negated.concat(halves.get(0), 3);
                NDArray a = x.mul(cos); NDArray b = rotated.mul(sin)) {
            halves.close();
            return a.add(b);
        }
    }
}
