package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A DJL block whose children and parameters carry Hugging Face names, so that the dotted path of
 * every parameter ({@code encoder.layer.0.attention.self.query.weight}) is exactly the key in
 * {@code model.safetensors}. DJL numbers its children ("01query"); this class keeps its own
 * name map beside DJL's list and keeps both in step, including when a method swaps a child.
 *
 * <p>Parameters are created without a shape and receive their array once through
 * {@link #assign}; nothing here relies on DJL initializers.
 */
public abstract class HfModule extends AbstractBlock {

    private final LinkedHashMap<String, HfModule> modules = new LinkedHashMap<>();
    private final LinkedHashMap<String, Parameter> params = new LinkedHashMap<>();

    protected <T extends HfModule> T module(String name, T module) {
        if (modules.containsKey(name)) {
            throw new IllegalStateException("duplicate child module '" + name + "'");
        }
        modules.put(name, module);
        addChildBlock(name, module);
        return module;
    }

    protected Parameter param(String name, Parameter.Type type) {
        Parameter p = Parameter.builder().setName(name).setType(type).build();
        addParameter(p);
        params.put(name, p);
        return p;
    }

    /** Replaces the direct child {@code name} (a method wrapping a layer), keeping DJL's list in step. */
    public void replaceModule(String name, HfModule replacement) {
        HfModule old = modules.get(name);
        if (old == null) {
            throw new IllegalArgumentException("no child module '" + name + "' in " + getClass().getSimpleName());
        }
        modules.put(name, replacement);
        for (int i = 0; i < children.size(); i++) {
            if (children.valueAt(i) == old) {
                String key = children.keyAt(i);
                children.remove(i);
                children.add(i, key, replacement);
                return;
            }
        }
        throw new IllegalStateException("child '" + name + "' missing from the DJL block list");
    }

    /** Adds a child after construction (methods attach adapters, prefix or prompt encoders). */
    public <T extends HfModule> T attachModule(String name, T module) {
        return module(name, module);
    }

    public Map<String, HfModule> modules() {
        return Collections.unmodifiableMap(modules);
    }

    public HfModule module(String name) {
        return modules.get(name);
    }

    public Map<String, Parameter> directParameters() {
        return Collections.unmodifiableMap(params);
    }

    /** Every parameter below this module, keyed by its dotted Hugging Face path. */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        modules.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /** Every module below (and including, as "") this one, keyed by dotted path. */
    public LinkedHashMap<String, HfModule> namedModules() {
        LinkedHashMap<String, HfModule> out = new LinkedHashMap<>();
        walk("", out);
        return out;
    }

    private void walk(String path, Map<String, HfModule> out) {
        out.put(path, this);
        modules.forEach((n, m) -> m.walk(path.isEmpty() ? n : path + "." + n, out));
    }

    /** Visits each module with its path. */
    public void forEachModule(java.util.function.BiConsumer<String, HfModule> visitor) {
        namedModules().forEach(visitor);
    }

    /**
     * Gives a parameter its value. The first time this sets the array; later calls copy the new
     * values in (shapes must agree), keeping the trainable flag.
     */
    public static void assign(Parameter p, NDArray value) {
        if (!p.isInitialized()) {
            // own the memory: arrays made from Java data wrap a direct buffer (from_blob) whose lifetime
            // is tied to the wrapper object, not to the tensor
            NDArray owned = value.duplicate();
            p.setArray(owned);
            owned.setRequiresGradient(p.requiresGradient());
            return;
        }
        NDArray cur = p.getArray();
        if (!cur.getShape().equals(value.getShape())) {
            throw new IllegalArgumentException("parameter '" + p.getName() + "' has shape " + cur.getShape()
                    + ", value has " + value.getShape());
        }
        NDArray v = value.toType(cur.getDataType(), false).toDevice(cur.getDevice(), false);
        cur.intern(v.duplicate());
        cur.setRequiresGradient(p.requiresGradient());
    }

    /**
     * The type a new trainable parameter takes beside {@code like} (a backbone weight): the same, except that a
     * float16 or bfloat16 backbone ({@code precision: fp16 | bf16}) gets float32 trainable parameters — the half types
     * hold frozen weights only.
     */
    public static ai.djl.ndarray.types.DataType trainableType(NDArray like) {
        var t = like.getDataType();
        return t == ai.djl.ndarray.types.DataType.FLOAT16 || TorchOps.isBf16(like)
                ? ai.djl.ndarray.types.DataType.FLOAT32 : t;
    }

    /** Marks parameters trainable (gradient attached) or frozen. */
    public static void setTrainable(Parameter p, boolean trainable) {
        p.freeze(!trainable);
    }

    public void forEachParameter(Consumer<Parameter> c) {
        namedParameters().values().forEach(c);
    }

    /**
     * Initialised = every parameter has its array. (DJL's default also wants recorded input shapes,
     * which blocks built from checkpoints never get.)
     */
    @Override
    public boolean isInitialized() {
        for (Parameter p : namedParameters().values()) {
            if (!p.isInitialized()) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected void initializeChildBlocks(ai.djl.ndarray.NDManager manager, ai.djl.ndarray.types.DataType dataType,
            Shape... inputShapes) {
        throw new IllegalStateException(getClass().getSimpleName() + " has parameters without values: "
                + namedParameters().entrySet().stream().filter(e -> !e.getValue().isInitialized())
                        .map(Map.Entry::getKey).limit(5).toList()
                + " (values come from a checkpoint or a method's injector, not from DJL initializers)");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    /** Names of children in DJL's block list, for debugging. */
    public Map<String, Block> djlChildren() {
        Map<String, Block> m = new LinkedHashMap<>();
        children.forEach(p -> m.put(p.getKey(), p.getValue()));
        return m;
    }
}
