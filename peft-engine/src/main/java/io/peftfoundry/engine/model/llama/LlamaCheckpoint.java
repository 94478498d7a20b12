package io.peftfoundry.engine.model.llama;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.io.CheckpointWeights;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.HfCheckpoints;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Loads and saves a {@link LlamaForCausalLM} as a Hugging Face layout directory ({@code config.json} +
 * {@code model.safetensors}, keys {@code model.*} and {@code lm_head.weight}). With
 * {@code tie_word_embeddings} a stored {@code lm_head.weight} is ignored (it equals the embedding); rotary
 * buffers ({@code rotary_emb.inv_freq}) are recomputed, not read. Every backbone parameter starts frozen.
 */
public final class LlamaCheckpoint {

    public static final String CONFIG = HfCheckpoints.CONFIG;
    public static final String WEIGHTS = HfCheckpoints.WEIGHTS;

    private LlamaCheckpoint() {}

    /** True when {@code dir/config.json} names a LLaMA-layout {@code model_type} (llama, mistral, qwen2). */
    public static boolean isLlama(Path dir) {
        try {
            String json = Files.readString(dir.resolve(CONFIG));
            return LlamaConfig.FAMILIES.contains(
                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).path("model_type").asText());
        } catch (IOException e) {
            return false;
        }
    }

    public static LlamaForCausalLM load(Path dir, NDManager manager) throws IOException {
        return load(dir, manager, DataType.FLOAT32);
    }

    /** Loads {@code dir} with linear and embedding weights as {@code matrixType} (FLOAT16: {@code precision: fp16}). */
    public static LlamaForCausalLM load(Path dir, NDManager manager, DataType matrixType) throws IOException {
        LlamaConfig config = LlamaConfig.read(dir.resolve(CONFIG));
        LlamaForCausalLM model = new LlamaForCausalLM(config);
        try (CheckpointWeights weights = HfCheckpoints.requireLayout(dir, "")) {
            HfCheckpoints.assignFrozen(model.namedParameters(), weights, name -> name, name -> shape(config, name),
                    HfCheckpoints.Layout.SAME, manager, matrixType);
        }
        return model;
    }

    /** A randomly initialised decoder (normal(0, 0.02) weights, zero biases, unit RMSNorm), frozen. */
    public static LlamaForCausalLM random(LlamaConfig config, NDManager manager, long seed, DataType dtype) {
        LlamaForCausalLM model = new LlamaForCausalLM(config);
        HfCheckpoints.randomFrozen(model.namedParameters(), name -> shape(config, name),
                name -> name.endsWith("layernorm.weight") || name.equals("model.norm.weight"), manager, seed, dtype);
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
        return HfCheckpoints.backboneTensors(model.namedParameters(), backboneNames(model.config()),
                HfCheckpoints.Layout.SAME);
    }

    public static void save(LlamaForCausalLM model, Path dir) throws IOException {
        HfCheckpoints.save(dir, model.config()::write, backboneTensors(model));
    }
}
