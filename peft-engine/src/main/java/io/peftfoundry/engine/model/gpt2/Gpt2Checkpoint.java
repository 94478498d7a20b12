package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.io.CheckpointWeights;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.HfCheckpoints;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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

    public static final String CONFIG = HfCheckpoints.CONFIG;
    public static final String WEIGHTS = HfCheckpoints.WEIGHTS;

    /** HF stores Conv1D weights as (in, out), the model's linears hold (out, in): a transpose either way. */
    private static final HfCheckpoints.Layout CONV1D = (name, a) -> isConv1dWeight(name) ? a.transpose() : a;

    private Gpt2Checkpoint() {}

    /** True for the parameters HF stores as Conv1D (in, out). */
    public static boolean isConv1dWeight(String name) {
        return name.endsWith("c_attn.weight") || name.endsWith("c_proj.weight") || name.endsWith("c_fc.weight");
    }

    public static Gpt2LmHeadModel load(Path dir, NDManager manager) throws IOException {
        return load(dir, manager, DataType.FLOAT32);
    }

    /** Loads {@code dir} with linear and embedding weights as {@code matrixType} (FLOAT16: {@code precision: fp16}). */
    public static Gpt2LmHeadModel load(Path dir, NDManager manager, DataType matrixType) throws IOException {
        Gpt2Config config = Gpt2Config.read(dir.resolve(CONFIG));
        Gpt2LmHeadModel model = new Gpt2LmHeadModel(config);
        try (CheckpointWeights weights = HfCheckpoints.requireLayout(dir, "")) {
            // GPT2Model checkpoints store the keys without the "transformer." prefix
            HfCheckpoints.assignFrozen(model.namedParameters(), weights,
                    name -> weights.contains(name) ? name : withoutPrefix(weights, name),
                    name -> hfShape(config, name), CONV1D, manager, matrixType);
        }
        return model;
    }

    private static String withoutPrefix(CheckpointWeights weights, String name) {
        String bare = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
        return weights.contains(bare) ? bare : name; // a tensor missing either way is reported by its full name
    }

    /** A randomly initialised decoder (normal(0, 0.02) weights, zero biases, unit LayerNorm), frozen. */
    public static Gpt2LmHeadModel random(Gpt2Config config, NDManager manager, long seed, DataType dtype) {
        Gpt2LmHeadModel model = new Gpt2LmHeadModel(config);
        HfCheckpoints.randomFrozen(model.namedParameters(), name -> {
            long[] shape = hfShape(config, name);
            return isConv1dWeight(name) ? new long[] {shape[1], shape[0]} : shape;
        }, name -> name.contains(".ln_") && name.endsWith(".weight"), manager, seed, dtype);
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
        return HfCheckpoints.backboneTensors(model.namedParameters(), backboneNames(model.config()), CONV1D);
    }

    public static void save(Gpt2LmHeadModel model, Path dir) throws IOException {
        HfCheckpoints.save(dir, model.config()::write, backboneTensors(model));
    }
}
