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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Loads and saves a {@link BertModel} as a Hugging Face layout directory
 * ({@code config.json} + {@code model.safetensors}). Every backbone parameter starts frozen.
 */
public final class BertCheckpoint {

    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";

    private BertCheckpoint() {}

    /** Loads {@code dir}; keys may carry a {@code bert.} prefix (as BertFor* checkpoints do). */
    public static BertModel load(Path dir, NDManager manager) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cfg)) {
            throw new IOException(dir + ": no " + CONFIG + " (expected a Hugging Face layout directory; try `import`)");
        }
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        BertConfig config = BertConfig.read(cfg);
        BertModel model = new BertModel(config);
        Map<String, Tensor> tensors = SafeTensors.read(weights);
        Map<String, Tensor> byName = new LinkedHashMap<>();
        tensors.forEach((k, v) -> byName.put(k.startsWith("bert.") ? k.substring(5) : k, v));
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor t = byName.get(e.getKey());
            if (t == null) {
                throw new IOException(weights + ": missing tensor '" + e.getKey() + "' required by " + CONFIG);
            }
            long[] expected = expectedShape(config, e.getKey());
            if (expected != null && !java.util.Arrays.equals(expected, t.shape())) {
                throw new IOException(weights + ": tensor '" + e.getKey() + "' has shape "
                        + java.util.Arrays.toString(t.shape()) + ", " + CONFIG + " implies " + java.util.Arrays.toString(expected));
            }
            e.getValue().freeze(true);
            HfModule.assign(e.getValue(), t.toNDArray(manager, DataType.FLOAT32));
        }
        return model;
    }

    /** A randomly initialised encoder (normal(0, 0.02) weights, zero biases, unit LayerNorm), frozen. */
    public static BertModel random(BertConfig config, NDManager manager, long seed, DataType dtype) {
        BertModel model = new BertModel(config);
        Random rnd = new Random(seed);
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            long[] shape = expectedShape(config, e.getKey());
            int n = 1;
            for (long d : shape) {
                n *= (int) d;
            }
            float[] v = new float[n];
            String name = e.getKey();
            if (name.endsWith("LayerNorm.weight")) {
                java.util.Arrays.fill(v, 1f);
            } else if (!name.endsWith("bias")) {
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (rnd.nextGaussian() * 0.02);
                }
            }
            e.getValue().freeze(true);
            NDArray a = manager.create(v, new Shape(shape));
            HfModule.assign(e.getValue(), dtype == DataType.FLOAT32 ? a : a.toType(dtype, false));
        }
        return model;
    }

    /** Shape of a backbone parameter, derived from the config; null for names outside the backbone. */
    public static long[] expectedShape(BertConfig c, String name) {
        long h = c.hiddenSize();
        if (name.equals("embeddings.word_embeddings.weight")) {
            return new long[] {c.vocabSize(), h};
        }
        if (name.equals("embeddings.position_embeddings.weight")) {
            return new long[] {c.maxPositionEmbeddings(), h};
        }
        if (name.equals("embeddings.token_type_embeddings.weight")) {
            return new long[] {c.typeVocabSize(), h};
        }
        if (name.endsWith("LayerNorm.weight") || name.endsWith("LayerNorm.bias")) {
            return new long[] {h};
        }
        if (name.endsWith("intermediate.dense.weight")) {
            return new long[] {c.intermediateSize(), h};
        }
        if (name.endsWith("intermediate.dense.bias")) {
            return new long[] {c.intermediateSize()};
        }
        if (name.endsWith(".output.dense.weight") && !name.contains("attention")) {
            return new long[] {h, c.intermediateSize()};
        }
        if (name.endsWith(".weight")) {
            return new long[] {h, h};
        }
        if (name.endsWith(".bias")) {
            return new long[] {h};
        }
        return null;
    }

    /** The backbone parameter names of a plain encoder with this config. */
    public static Set<String> backboneNames(BertConfig config) {
        return new BertModel(config).namedParameters().keySet();
    }

    /**
     * Backbone tensors by HF name. A wrapped layer's {@code base_layer} counts as the layer itself
     * (PEFT's naming); method parameters are left out.
     */
    public static Map<String, Tensor> backboneTensors(BertModel model) {
        Set<String> names = backboneNames(model.config());
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> {
            String hf = k.replace(".base_layer.", ".");
            if (names.contains(hf)) {
                NDArray a = p.getArray();
                out.put(hf, Tensor.of(a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false)));
            }
        });
        if (out.size() != names.size()) {
            throw new IllegalStateException("backbone has " + out.size() + " of " + names.size() + " tensors");
        }
        return out;
    }

    public static void save(BertModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        model.config().write(dir.resolve(CONFIG));
        SafeTensors.write(dir.resolve(WEIGHTS), backboneTensors(model), Map.of("format", "pt"));
    }
}
