package io.peftfoundry.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.io.CheckpointWeights;
import io.peftfoundry.engine.io.DType;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.SafeTensorsFile;
import io.peftfoundry.engine.io.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What every backbone's checkpoint class (BERT, GPT-2, LLaMA) does the same way with a Hugging Face layout directory:
 * check it, copy stored tensors into frozen parameters with shape checks, initialise randomly, collect the backbone's
 * tensors (PEFT's {@code base_layer} naming folded away) and write them. The architecture-specific parts — tensor
 * names, the shapes a config implies, a layout change such as GPT-2's Conv1D transpose — are passed in.
 */
public final class HfCheckpoints {

    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";

    /** How a stored array becomes a parameter's array (or back): by parameter name. */
    public interface Layout extends BiFunction<String, NDArray, NDArray> {
        Layout SAME = (name, a) -> a;
    }

    /** Writes {@code config.json} into the directory given. */
    public interface ConfigWriter {
        void write(Path file) throws IOException;
    }

    private static final System.Logger LOG = System.getLogger(HfCheckpoints.class.getName());

    private HfCheckpoints() {}

    /**
     * Opens the weights of {@code dir} ({@code model.safetensors}, or the shards of
     * {@code model.safetensors.index.json}), after checking that {@code dir/config.json} exists.
     */
    public static CheckpointWeights requireLayout(Path dir, String hint) throws IOException {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new IOException(dir + ": no " + CONFIG + " (expected a Hugging Face layout directory" + hint + ")");
        }
        if (!CheckpointWeights.present(dir)) {
            throw new IOException(dir + ": no " + WEIGHTS + " and no " + CheckpointWeights.INDEX);
        }
        return CheckpointWeights.open(dir);
    }

    /** As {@link #assignFrozen(Map, CheckpointWeights, Function, Function, Layout, NDManager, DataType)} in float32. */
    public static void assignFrozen(Map<String, Parameter> params, CheckpointWeights stored,
            Function<String, String> storedName, Function<String, long[]> storedShape, Layout layout,
            NDManager manager) throws IOException {
        assignFrozen(params, stored, storedName, storedShape, layout, manager, DataType.FLOAT32);
    }

    /**
     * Copies the stored tensors into every parameter, frozen, one tensor at a time (streamed from the file into
     * native memory): each must be there under {@code storedName} of the parameter's name and have the shape
     * {@code storedShape} gives (null: not checked); {@code layout} turns the stored array into the parameter's.
     * Each stored array is released as soon as it is copied, so loading peaks at the model plus one tensor.
     *
     * <p>{@code matrixType} is the type of the weight matrices of linear layers and embeddings ({@link #isMatrix}):
     * FLOAT32, or FLOAT16 to hold them at half size ({@code precision: fp16}; a tensor outside float16's range stays
     * FLOAT32 and is logged), or BFLOAT16 ({@code precision: bf16}; see {@link #assignBf16}). Norm weights and biases
     * are always FLOAT32.
     */
    public static void assignFrozen(Map<String, Parameter> params, CheckpointWeights stored,
            Function<String, String> storedName, Function<String, long[]> storedShape, Layout layout,
            NDManager manager, DataType matrixType) throws IOException {
        Map<Path, NDArray> mapped = new HashMap<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String name = storedName.apply(e.getKey());
            if (!stored.contains(name)) {
                throw new IOException(stored.dir() + ": missing tensor '" + name + "' required by " + CONFIG);
            }
            long[] shape = stored.entry(name).shape();
            long[] expected = storedShape.apply(e.getKey());
            if (expected != null && !Arrays.equals(expected, shape)) {
                throw new IOException(stored.fileOf(name) + ": tensor '" + name + "' has shape " + Arrays.toString(shape)
                        + ", " + CONFIG + " implies " + Arrays.toString(expected));
            }
            Parameter p = e.getValue();
            p.freeze(true);
            DataType type = isMatrix(p, shape) ? matrixType : DataType.FLOAT32;
            if (type == DataType.BFLOAT16) {
                assignBf16(p, e.getKey(), name, stored, layout, manager, mapped);
                continue;
            }
            try (NDManager scratch = manager.newSubManager()) {
                NDArray a = stored.toNDArray(name, scratch, type);
                if (a.getDataType() != type) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: tensor ''{1}'' has values beyond float16''s range "
                            + "(|x| > 65504): held as float32", stored.fileOf(name), name);
                }
                NDArray laid = layout.apply(e.getKey(), a);
                if (laid == a && !p.isInitialized()) {
                    // the streamed array already owns its memory (no Java buffer behind it): the parameter takes it
                    a.attach(manager);
                    p.setArray(a);
                } else {
                    // assign copies into memory owned by the parameter; the scratch arrays go with the sub-manager
                    HfModule.assign(p, laid);
                    p.getArray().attach(manager);
                }
            }
        }
    }

    /**
     * Gives a frozen parameter the stored tensor as bfloat16 ({@code precision: bf16}). A BF16 tensor stored as it is
     * ({@link Layout#SAME}) at an even byte offset is a view of its shard memory-mapped once ({@code mapped}, by file;
     * {@link TorchOps#mapBf16}): nothing is read or copied until the pages are touched, as Hugging Face maps
     * safetensors. Any other tensor (F32/F16 stored, a layout change, an odd offset) is streamed as float32 and cast.
     */
    private static void assignBf16(Parameter p, String paramName, String name, CheckpointWeights stored,
            Layout layout, NDManager manager, Map<Path, NDArray> mapped) throws IOException {
        SafeTensorsFile.Entry entry = stored.entry(name);
        long offset = stored.fileOffset(name);
        NDArray held;
        if (entry.dtype() == DType.BF16 && layout == Layout.SAME && offset % 2 == 0
                && manager.getDevice().equals(Device.cpu())) {
            Path file = stored.fileOf(name);
            NDArray flat = mapped.get(file);
            if (flat == null) {
                flat = TorchOps.mapBf16(file, Files.size(file) / 2, manager);
                mapped.put(file, flat);
            }
            held = TorchOps.viewOf(flat, offset / 2, entry.shape());
            held.attach(manager);
        } else {
            try (NDManager scratch = manager.newSubManager()) {
                NDArray laid = layout.apply(paramName, stored.toNDArray(name, scratch, DataType.FLOAT32));
                held = TorchOps.toBf16(laid);
                held.attach(manager);
            }
        }
        if (p.isInitialized()) {
            p.getArray().intern(held); // the parameter keeps its array object, now holding the bf16 values
        } else {
            p.setArray(held);
        }
        p.getArray().setRequiresGradient(false);
    }

    /** A weight matrix of a linear layer or an embedding (DJL type WEIGHT, two axes): what fp16 holds at half size. */
    public static boolean isMatrix(Parameter p, long[] storedShape) {
        return p.getType() == Parameter.Type.WEIGHT && storedShape.length == 2;
    }

    /**
     * Random initialisation, frozen, in parameter order from one seeded generator: normal(0, 0.02) weights, zero
     * biases, ones where {@code unitWeight} says so (norm scales).
     */
    public static void randomFrozen(Map<String, Parameter> params, Function<String, long[]> shape,
            Predicate<String> unitWeight, NDManager manager, long seed, DataType dtype) {
        Random rnd = new Random(seed);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String name = e.getKey();
            long[] s = shape.apply(name);
            int n = Math.toIntExact(Arrays.stream(s).reduce(1, Math::multiplyExact));
            float[] v = new float[n];
            if (unitWeight.test(name)) {
                Arrays.fill(v, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (rnd.nextGaussian() * 0.02);
                }
            }
            e.getValue().freeze(true);
            NDArray a = manager.create(v, new Shape(s));
            HfModule.assign(e.getValue(), dtype == DataType.FLOAT32 ? a : a.toType(dtype, false));
        }
    }

    /**
     * The backbone's tensors by Hugging Face name, float32, in the stored layout ({@code layout} turns a parameter's
     * array into the stored one); a wrapped layer's {@code base_layer} counts as the layer (PEFT's naming) and method
     * parameters are left out.
     */
    public static Map<String, Tensor> backboneTensors(Map<String, Parameter> params, Set<String> names, Layout layout) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        params.forEach((k, p) -> {
            String hf = k.replace(".base_layer.", ".");
            if (names.contains(hf)) {
                NDArray a = p.getArray();
                if (TorchOps.isBf16(a)) {
                    a = TorchOps.toFloat32(a);
                } else if (a.getDataType() != DataType.FLOAT32) {
                    a = a.toType(DataType.FLOAT32, false);
                }
                out.put(hf, Tensor.of(layout.apply(hf, a)));
            }
        });
        if (out.size() != names.size()) {
            throw new IllegalStateException("backbone has " + out.size() + " of " + names.size() + " tensors");
        }
        return out;
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors}. */
    public static void save(Path dir, ConfigWriter config, Map<String, Tensor> tensors) throws IOException {
        Files.createDirectories(dir);
        config.write(dir.resolve(CONFIG));
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
    }
}
