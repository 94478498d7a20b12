package io.peftfoundry.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.model.BertCheckpoint;
import io.peftfoundry.engine.model.BertConfig;
import io.peftfoundry.engine.model.BertModel;

import java.util.Random;

/** Tiny random encoders and inputs for fast tests. */
public final class TestModels {

    public static final BertConfig TINY = BertConfig.tiny(50, 16, 2, 2, 32);

    private TestModels() {}

    public static BertModel tiny(NDManager m, long seed) {
        return BertCheckpoint.random(TINY, m, seed, DataType.FLOAT32);
    }

    /** Random ids in [5, vocab), with the last {@code pad} positions of row 0 padded. */
    public static NDList inputs(NDManager m, int batch, int len, int pad, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[batch * len];
        long[] mask = new long[batch * len];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 5 + r.nextInt(TINY.vocabSize() - 5);
            mask[i] = 1;
        }
        for (int j = len - pad; j < len; j++) {
            ids[j] = 0;
            mask[j] = 0;
        }
        return new NDList(m.create(ids, new Shape(batch, len)), m.zeros(new Shape(batch, len), DataType.INT64),
                m.create(mask, new Shape(batch, len)));
    }

    public static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().toType(DataType.FLOAT64, false).getDouble();
    }
}
