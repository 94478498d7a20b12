package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Loads and saves a {@link Gpt2LmHeadModel} as a Hugging Face layout directory ({@code config.json} +
 * {@code model.safetensors}, keys {@code transformer.*}; a bare {@code GPT2Model} checkpoint without the
 * prefix loads too). HF's Conv1D weights ({@code c_attn}, {@code c_proj}, {@code c_fc}) are stored
 * (in, out) and are transposed to (out, in) here and back on save. {@code lm_head.weight} (tied) and
 * the attention-mask buffers ({@code attn.bias}, {@code attn.masked_bias}) are ignored. Every backbone
 * parameter starts frozen.
 */
public final class Gpt2Checkpoint {

    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";

    private Gpt2Checkpoint() {}

    /** True for the parameters HF stores as Conv1D (in, out). */
    public static boolean isConv1dWeight(String name) {
        return name.endsWith("c_attn.weight") || name.endsWith("c_proj.weight") || name.endsWith("c_fc.weight");
    }

    public static Gpt2LmHeadModel load(Path dir, NDManager manager) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cfg)) {
            throw new IOException(dir + ": no " + CONFIG + " (expected a Hugging Face layout directory)");
        }
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        Gpt2Config config = Gpt2Config.read(cfg);
        Gpt2LmHeadModel model = new Gpt2LmHeadModel(config);
        Map<String, Tensor> byName = new LinkedHashMap<>();
        SafeTensors.read(weights).forEach((k, v) -> byName.put(k.startsWith("transformer.") ? k : "transformer." + k, v));
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor t = byName.get(e.getKey());
            if (t == null) {
                throw new IOException(weights + ": missing tensor '" + e.getKey() + "' required by " + CONFIG);
            }
            long[] hfShape = hfShape(config, e.getKey());
            if (!Arrays.equals(hfShape, t.shape())) {
                throw new IOException(weights + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + ", " + CONFIG + " implies " + Arrays.toString(hfShape));
            }
            NDArray a = t.toNDArray(manager, DataType.FLOAT32);
            if (isConv1dWeight(e.getKey())) {
                a = a.transpose();
            }
            e.getValue().freeze(true);
            HfModule.assign(e.getValue(), a);
        }
        return model;
    }

    /** A randomly initialised decoder (normal(0, 0.02) weights, zero biases, unit LayerNorm), frozen. */
    public static Gpt2LmHeadModel random(Gpt2Config config, NDManager manager, long seed, DataType dtype) {
        Gpt2LmHeadModel model = new Gpt2LmHeadModel(config);
        Random rnd = new Random(seed);
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            long[] shape = hfShape(config, e.getKey());
            if (isConv1dWeight(e.getKey())) {
                shape = new long[] {shape[1], shape[0]};
            }
            int n = (int) Arrays.stream(shape).reduce(1, (x, y) -> x * y);
            float[] v = new float[n];
            String name = e.getKey();
            boolean norm = name.contains(".ln_");
            if (norm && name.endsWith(".weight")) {
                Arrays.fill(v, 1f);
            } else if (!name.endsWith(".bias")) {
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

    /** Shape of a backbone tensor as HF stores it (Conv1D weights (in, out)). */
    public static long[] hfShape(Gpt2Config c, String name) {
        long h = c.nEmbd();
        String n = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
        if (n.equals("wte.weight")) {
            return new long[] {c.vocabSize(), h};
        }
        if (n.equals("wpe.weight")) {
            return new long[] {c.nPositions(), h};
        }
        if (n.endsWith("attn.c_attn.weight")) {
            return new long[] {h, 3 * h};
        }
        if (n.endsWith("attn.c_attn.bias")) {
            return new long[] {3 * h};
        }
        if (n.endsWith("mlp.c_fc.weight")) {
            return new long[] {h, c.nInner()};
        }
        if (n.endsWith("mlp.c_fc.bias")) {
            return new long[] {c.nInner()};
        }
        if (n.endsWith("mlp.c_proj.weight")) {
            return new long[] {c.nInner(), h};
        }
        if (n.endsWith("attn.c_proj.weight")) {
            return new long[] {h, h};
        }
        return new long[] {h}; // biases of c_proj, LayerNorm weight/bias
    }

    public static Set<String> backboneNames(Gpt2Config config) {
        return new Gpt2LmHeadModel(config).namedParameters().keySet();
    }

    /**
     * Backbone tensors by HF name and in HF's layout; a wrapped layer's {@code base_layer} counts as the
     * layer itself (PEFT's naming), method parameters are left out.
     */
    public static Map<String, Tensor> backboneTensors(Gpt2LmHeadModel model) {
        Set<String> names = backboneNames(model.config());
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> {
            String hf = k.replace(".base_layer.", ".");
            if (names.contains(hf)) {
                NDArray a = p.getArray();
                if (a.getDataType() != DataType.FLOAT32) {
                    a = a.toType(DataType.FLOAT32, false);
                }
                out.put(hf, Tensor.of(isConv1dWeight(hf) ? a.transpose() : a));
            }
        });
        if (out.size() != names.size()) {
            throw new IllegalStateException("backbone has " + out.size() + " of " + names.size() + " tensors");
        }
        return out;
    }

    public static void save(Gpt2LmHeadModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        model.config().write(dir.resolve(CONFIG));
        SafeTensors.write(dir.resolve(WEIGHTS), backboneTensors(model), Map.of("format", "pt"));
    }
}
