package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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

    private HfCheckpoints() {}

    /** {@code dir/model.safetensors}, after checking that it and {@code dir/config.json} exist. */
    public static Path requireLayout(Path dir, String hint) throws IOException {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new IOException(dir + ": no " + CONFIG + " (expected a Hugging Face layout directory" + hint + ")");
        }
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        return weights;
    }

    /**
     * Copies {@code stored} into every parameter, frozen: each must be there under the parameter's name and have the
     * shape {@code storedShape} gives (null: not checked); {@code layout} turns the stored array into the parameter's.
     */
    public static void assignFrozen(Map<String, Parameter> params, Map<String, Tensor> stored,
            Function<String, long[]> storedShape, Layout layout, Path weights, NDManager manager) throws IOException {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Tensor t = stored.get(e.getKey());
            if (t == null) {
                throw new IOException(weights + ": missing tensor '" + e.getKey() + "' required by " + CONFIG);
            }
            long[] expected = storedShape.apply(e.getKey());
            if (expected != null && !Arrays.equals(expected, t.shape())) {
                throw new IOException(weights + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + ", " + CONFIG + " implies " + Arrays.toString(expected));
            }
            e.getValue().freeze(true);
            HfModule.assign(e.getValue(), layout.apply(e.getKey(), t.toNDArray(manager, DataType.FLOAT32)));
        }
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
            int n = (int) Arrays.stream(s).reduce(1, (x, y) -> x * y);
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
                if (a.getDataType() != DataType.FLOAT32) {
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
