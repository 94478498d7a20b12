package io.peftfoundry.engine.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen linear layer serving many LoRA adapters at once, each batch row with its own (or none), for inference:
 * {@code y[b] = base(x[b]) + B[b](scaling[b] · A[b](x[b]))}. The layer keeps its adapters stacked: A transposed
 * and scaled (1 + N, in, r_max) and B transposed (1 + N, r_max, out), slot 0 all zeros (rows without an adapter on
 * this layer), smaller ranks padded with zeros — rebuilt only when an adapter is added or removed. For a batch the
 * rows' slots are gathered from the stacks in one indexing op each ((batch, in, r_max), (batch, r_max, out)),
 * rebuilt only when the batch's composition changes ({@link MultiLora#select}), and applied with two batched matmuls.
 * (..., in) → (..., out), x (B, T, in).
 */
public final class MultiLoraLinear extends HfModule {

    /** One adapter's low-rank pair on this layer: A transposed (in, r), B transposed (r, out), owned by {@link MultiLora}. */
    record Pair(NDArray aT, NDArray bT, double scaling) {}

    private final HfLinear base;
    private final MultiLora owner;
    private final Map<String, Pair> adapters = new LinkedHashMap<>();
    /** Stack slot of each adapter (1-based; 0 = no adapter), null until stacked. */
    private Map<String, Integer> slots;
    private NDManager stackManager;
    private NDArray stackA;
    private NDArray stackB;
    private long builtFor = -1;
    private NDManager gathered;
    private NDArray aT;
    private NDArray bT;

    MultiLoraLinear(HfLinear base, MultiLora owner) {
        this.base = module("base_layer", base);
        this.owner = owner;
    }

    public HfLinear base() {
        return base;
    }

    void put(String adapter, Pair pair) {
        adapters.put(adapter, pair);
        unstack();
    }

    void remove(String adapter) {
        if (adapters.remove(adapter) != null) {
            unstack();
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
        // (B,T,in)·(B,in,r) → (B,T,r) (scaling folded into A); ·(B,r,out) → (B,T,out)
        try (y; NDArray a = x.matMul(aT); NDArray low = a.matMul(bT)) {
            return new NDList(y.add(low));
        }
    }

    /** The stacks of every adapter on this layer, built when the set of adapters changed. */
    private void stack(NDArray like) {
        if (slots != null) {
            return;
        }
        int rMax = 0;
        for (Pair p : adapters.values()) {
            rMax = Math.max(rMax, (int) p.aT().getShape().get(1));
        }
        long in = base.inFeatures();
        long out = base.outFeatures();
        int n = adapters.size() + 1;
        Map<String, Integer> at = new HashMap<>();
        NDManager m = owner.manager().newSubManager();
        try {
            NDArray a = m.zeros(new Shape(n, in, rMax), like.getDataType());
            NDArray b = m.zeros(new Shape(n, rMax, out), like.getDataType());
            int slot = 1;
            for (Map.Entry<String, Pair> e : adapters.entrySet()) {
                Pair p = e.getValue();
                long r = p.aT().getShape().get(1);
                try (NDArray scaled = p.aT().mul(p.scaling())) {
                    a.set(new NDIndex("{}, :, :{}", slot, r), scaled);
                }
                b.set(new NDIndex("{}, :{}, :", slot, r), p.bT());
                at.put(e.getKey(), slot++);
            }
            stackA = a;
            stackB = b;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        stackManager = m;
        slots = at;
    }

    private void unstack() {
        if (stackManager != null) {
            stackManager.close();
            stackManager = null;
        }
        slots = null;
        stackA = null;
        stackB = null;
        builtFor = -1;
    }

    /** Gathers the per-row tensors for the current selection; false when no row uses an adapter of this layer. */
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
        builtFor = version;
        List<String> rows = owner.rows();
        long[] index = new long[rows.size()];
        boolean any = false;
        stack(like);
        for (int i = 0; i < rows.size(); i++) {
            Integer slot = rows.get(i) == null ? null : slots.get(rows.get(i));
            index[i] = slot == null ? 0 : slot;
            any |= slot != null;
        }
        if (!any) {
            return false;
        }
        gathered = owner.manager().newSubManager();
        try (NDArray idx = gathered.create(index)) {
            aT = stackA.get(idx);
            bT = stackB.get(idx);
            aT.attach(gathered);
            bT.attach(gathered);
        }
        return true;
    }

    void close() {
        if (gathered != null) {
            gathered.close();
            gathered = null;
        }
        unstack();
    }
}
