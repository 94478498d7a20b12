package io.peftfoundry.engine.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen linear layer serving many LoRA adapters at once, each batch row with its own (or none), for inference:
 * {@code y[b] = base(x[b]) + scaling[b] · B[b](A[b](x[b]))}. The rows' A (r, in) and B (out, r) are gathered into
 * (batch, r_max, in) and (batch, out, r_max) — smaller ranks padded with zeros, rows without an adapter here all
 * zeros with scaling 0 — and applied with two batched matmuls. The gathered tensors are rebuilt only when the
 * batch's composition changes ({@link MultiLora#select}). (..., in) → (..., out), x (B, T, in).
 */
public final class MultiLoraLinear extends HfModule {

    /** One adapter's low-rank pair on this layer: A transposed (in, r), B transposed (r, out), owned by {@link MultiLora}. */
    record Pair(NDArray aT, NDArray bT, double scaling) {}

    private final HfLinear base;
    private final MultiLora owner;
    private final Map<String, Pair> adapters = new HashMap<>();
    private long builtFor = -1;
    private NDManager gathered;
    private NDArray aT;
    private NDArray bT;
    private NDArray scale;

    MultiLoraLinear(HfLinear base, MultiLora owner) {
        this.base = module("base_layer", base);
        this.owner = owner;
    }

    public HfLinear base() {
        return base;
    }

    void put(String adapter, Pair pair) {
        adapters.put(adapter, pair);
        builtFor = -1;
    }

    void remove(String adapter) {
        if (adapters.remove(adapter) != null) {
            builtFor = -1;
        }
    }

    boolean isEmpty() {
        return adapters.isEmpty();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray y = base.forward(ps, inputs, training).head();
        if (!gather(x)) {
            return new NDList(y);
        }
        // (B,T,in)·(B,in,r) → (B,T,r); ·(B,r,out) → (B,T,out); per-row scaling (B,1,1)
        NDArray low = x.matMul(aT).matMul(bT).mul(scale);
        return new NDList(y.add(low));
    }

    /** Builds the per-row tensors for the current selection; false when no row uses an adapter of this layer. */
    private boolean gather(NDArray like) {
        long version = owner.version();
        if (builtFor == version) {
            return aT != null;
        }
        if (gathered != null) {
            gathered.close();
            gathered = null;
        }
        aT = null;
        bT = null;
        scale = null;
        builtFor = version;
        List<String> rows = owner.rows();
        int rMax = 0;
        for (String r : rows) {
            Pair p = r == null ? null : adapters.get(r);
            if (p != null) {
                rMax = Math.max(rMax, (int) p.aT().getShape().get(1));
            }
        }
        if (rMax == 0) {
            return false;
        }
        gathered = owner.manager().newSubManager();
        long in = base.inFeatures();
        long out = base.outFeatures();
        NDList as = new NDList();
        NDList bs = new NDList();
        float[] scales = new float[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Pair p = rows.get(i) == null ? null : adapters.get(rows.get(i));
            if (p == null) {
                as.add(gathered.zeros(new Shape(in, rMax), like.getDataType()));
                bs.add(gathered.zeros(new Shape(rMax, out), like.getDataType()));
                continue;
            }
            long r = p.aT().getShape().get(1);
            // copies owned by this batch's manager (ops attach results to their first operand's manager)
            NDArray a = p.aT().duplicate();
            NDArray b = p.bT().duplicate();
            a.attach(gathered);
            b.attach(gathered);
            if (r < rMax) {
                a = a.concat(gathered.zeros(new Shape(in, rMax - r), like.getDataType()), 1);
                b = b.concat(gathered.zeros(new Shape(rMax - r, out), like.getDataType()), 0);
            }
            as.add(a);
            bs.add(b);
            scales[i] = (float) p.scaling();
        }
        aT = NDArrays.stack(as);
        bT = NDArrays.stack(bs);
        scale = gathered.create(scales, new Shape(rows.size(), 1, 1)).toType(like.getDataType(), true);
        return true;
    }

    void close() {
        if (gathered != null) {
            gathered.close();
            gathered = null;
        }
        builtFor = -1;
    }
}
