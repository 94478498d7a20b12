package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Lookup table {@code weight} (num, dim): int64 ids (...) → (..., dim); a float16 or bfloat16 table gives float32 rows. */
public class HfEmbedding extends HfModule {

    private final int num;
    private final int dim;
    private final Parameter weight;

    public HfEmbedding(int num, int dim) {
        this.num = num;
        this.dim = dim;
        this.weight = param("weight", Parameter.Type.WEIGHT);
    }

    public int num() {
        return num;
    }

    public int dim() {
        return dim;
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.head();
        NDArray w = ps.getValue(weight, ids.getDevice(), training);
        if (TorchOps.isBf16(w)) { // precision bf16: gathered at half size, widened by the script (DJL cannot cast bf16)
            return new NDList(TorchOps.embeddingFloat32(ids, w));
        }
        NDList rows = Embedding.embedding(ids, w, SparseFormat.DENSE);
        if (w.getDataType() != DataType.FLOAT16) {
            return rows;
        }
        // a float16 table (precision fp16): gather at half size, compute on in float32 (a frozen table's rows need
        // no gradient, so DJL's toType, which cuts it, is fine here)
        try (NDArray half = rows.head()) {
            return new NDList(half.toType(DataType.FLOAT32, false));
        }
    }
}
