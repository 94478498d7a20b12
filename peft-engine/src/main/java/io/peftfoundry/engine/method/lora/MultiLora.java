package io.peftfoundry.engine.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Many LoRA adapters served on one frozen backbone in the same batch (LoRAX/S-LoRA's idea, for inference): every
 * linear layer some registered adapter targets becomes a {@link MultiLoraLinear}, and {@link #select} says which
 * adapter each row of the next forward calls uses ({@code null}: the bare backbone). Adapters are copied in from a
 * LoRA installed on another view of the same backbone ({@link #add}), so the usual loading and shape checks apply;
 * a row's output equals that adapter's own {@link LoraLinear} forward (up to float summation order).
 * Not thread-safe: one decoding loop drives a backbone's forward calls.
 */
public final class MultiLora implements AutoCloseable {

    private final Backbone view;
    private final NDManager manager;
    private final Map<String, MultiLoraLinear> layers = new LinkedHashMap<>();
    private final Map<String, NDManager> adapterManagers = new HashMap<>();
    private final Map<String, Long> adapterBytes = new HashMap<>();
    private List<String> rows = List.of();
    private long version;

    /** @param view the backbone whose linear layers get wrapped (a view over shared frozen tensors) */
    public MultiLora(Backbone view, NDManager manager) {
        this.view = view;
        this.manager = manager.newSubManager();
    }

    /**
     * Registers {@code key}'s tensors from {@code lora} (a LoRA installed on another view of the same backbone);
     * the copies belong to this object, so the source may be closed afterwards. Returns the bytes copied.
     */
    public long add(String key, InjectedMethod lora) {
        if (!(lora instanceof LoraInjector.Injected injected)) {
            throw new IllegalArgumentException("adapter " + key + " is " + lora.config().methodType() + ", not lora");
        }
        remove(key);
        NDManager own = manager.newSubManager();
        long bytes = 0;
        Map<String, HfModule> modules = view.namedModules();
        for (Map.Entry<String, LoraLinear> e : injected.layers().entrySet()) {
            String path = e.getKey();
            MultiLoraLinear layer = layers.get(path);
            if (layer == null) {
                HfModule target = modules.get(path);
                if (!(target instanceof HfLinear base)) {
                    own.close();
                    throw new IllegalArgumentException("adapter " + key + ": no linear layer '" + path + "' in the backbone");
                }
                int dot = path.lastIndexOf('.');
                layer = new MultiLoraLinear(base, this);
                modules.get(path.substring(0, dot)).replaceModule(path.substring(dot + 1), layer);
                layers.put(path, layer);
            }
            LoraLinear l = e.getValue();
            NDArray like = layer.base().weight().getArray();
            NDArray aT = l.loraA().getArray().transpose().toType(like.getDataType(), true);
            NDArray bT = l.loraB().getArray().transpose().toType(like.getDataType(), true);
            aT.attach(own);
            bT.attach(own);
            bytes += (aT.size() + bT.size()) * like.getDataType().getNumOfBytes();
            layer.put(key, new MultiLoraLinear.Pair(aT, bT, l.scaling()));
        }
        adapterManagers.put(key, own);
        adapterBytes.put(key, bytes);
        version++;
        return bytes;
    }

    /** Forgets {@code key} and frees its tensors (no-op when unknown). */
    public void remove(String key) {
        NDManager own = adapterManagers.remove(key);
        if (own == null) {
            return;
        }
        layers.values().forEach(l -> l.remove(key));
        adapterBytes.remove(key);
        own.close();
        version++;
    }

    public boolean contains(String key) {
        return adapterManagers.containsKey(key);
    }

    public List<String> adapters() {
        return new ArrayList<>(adapterManagers.keySet());
    }

    /** The adapter of each row of the following forward calls, in batch order; {@code null} = no adapter. */
    public void select(List<String> rowAdapters) {
        for (String r : rowAdapters) {
            if (r != null && !adapterManagers.containsKey(r)) {
                throw new IllegalArgumentException("adapter " + r + " is not registered");
            }
        }
        List<String> next = Collections.unmodifiableList(new ArrayList<>(rowAdapters));
        if (!next.equals(rows)) {
            rows = next;
            version++;
        }
    }

    List<String> rows() {
        return rows;
    }

    long version() {
        return version;
    }

    NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        layers.values().forEach(MultiLoraLinear::close);
        manager.close();
        adapterManagers.clear();
    }
}
