package io.peftfoundry.engine.model.llama;

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
 * Loads and saves a {@link LlamaForCausalLM} as a Hugging Face layout directory ({@code config.json} +
 * {@code model.safetensors}, keys {@code model.*} and {@code lm_head.weight}). With
 * {@code tie_word_embeddings} a stored {@code lm_head.weight} is ignored (it equals the embedding); rotary
 * buffers ({@code rotary_emb.inv_freq}) are recomputed, not read. Every backbone parameter starts frozen.
 */
public final class LlamaCheckpoint {

    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";

    private LlamaCheckpoint() {}

    /** True when {@code dir/config.json} names {@code model_type: llama}. */
    public static boolean isLlama(Path dir) {
        try {
            String json = Files.readString(dir.resolve(CONFIG));
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).path("model_type").asText().equals("llama");
        } catch (IOException e) {
            return false;
        }
    }

    public static LlamaForCausalLM load(Path dir, NDManager manager) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cfg)) {
            throw new IOException(dir + ": no " + CONFIG + " (expected a Hugging Face layout directory)");
        }
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        LlamaConfig config = LlamaConfig.read(cfg);
        LlamaForCausalLM model = new LlamaForCausalLM(config);
        Map<String, Tensor> stored = SafeTensors.read(weights);
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor t = stored.get(e.getKey());
            if (t == null) {
                throw new IOException(weights + ": missing tensor '" + e.getKey() + "' required by " + CONFIG);
            }
            long[] expected = shape(config, e.getKey());
            if (!Arrays.equals(expected, t.shape())) {
                throw new IOException(weights + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + ", " + CONFIG + " implies " + Arrays.toString(expected));
            }
            e.getValue().freeze(true);
            HfModule.assign(e.getValue(), t.toNDArray(manager, DataType.FLOAT32));
        }
        return model;
    }

    /** A randomly initialised decoder (normal(0, 0.02) weights, zero biases, unit RMSNorm), frozen. */
    public static LlamaForCausalLM random(LlamaConfig config, NDManager manager, long seed, DataType dtype) {
        LlamaForCausalLM model = new LlamaForCausalLM(config);
        Random rnd = new Random(seed);
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            long[] shape = shape(config, e.getKey());
            int n = (int) Arrays.stream(shape).reduce(1, (x, y) -> x * y);
            float[] v = new float[n];
            String name = e.getKey();
            if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
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

    /** Shape of a backbone tensor as transformers stores it (linear weights (out, in)). */
    public static long[] shape(LlamaConfig c, String name) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        if (name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")) {
            return new long[] {c.vocabSize(), h};
        }
        boolean bias = name.endsWith(".bias");
        long[][] linear;
        if (name.contains("self_attn.q_proj.")) {
            linear = new long[][] {{q, h}};
        } else if (name.contains("self_attn.k_proj.") || name.contains("self_attn.v_proj.")) {
            linear = new long[][] {{kv, h}};
        } else if (name.contains("self_attn.o_proj.")) {
            linear = new long[][] {{h, q}};
        } else if (name.contains("mlp.gate_proj.") || name.contains("mlp.up_proj.")) {
            linear = new long[][] {{inter, h}};
        } else if (name.contains("mlp.down_proj.")) {
            linear = new long[][] {{h, inter}};
        } else {
            return new long[] {h}; // RMSNorm weights
        }
        return bias ? new long[] {linear[0][0]} : linear[0];
    }

    public static Set<String> backboneNames(LlamaConfig config) {
        return new LlamaForCausalLM(config).namedParameters().keySet();
    }

    /** Backbone tensors by HF name; a wrapped layer's {@code base_layer} counts as the layer (PEFT's naming). */
    public static Map<String, Tensor> backboneTensors(LlamaForCausalLM model) {
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

    public static void save(LlamaForCausalLM model, Path dir) throws IOException {
        Files.createDirectories(dir);
        model.config().write(dir.resolve(CONFIG));
        SafeTensors.write(dir.resolve(WEIGHTS), backboneTensors(model), Map.of("format", "pt"));
    }
}
