package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDManager;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaForCausalLM;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A decoder-only language model ({@link Gpt2LmHeadModel}, {@link LlamaForCausalLM}) as PEFT methods see it.
 * Forward convention: {@code NDList(ids (B,T), mask (B,P+T) | null, k0, v0, …) → NDList(logits (B,T,V), k0', v0', …)},
 * cache arrays (B, kv_heads, P, head_dim).
 *
 * <p>Extension points: a prompt encoder ({@code NDList(ids) → NDList(soft prompt (B,S,H))}) whose vectors go in
 * front of the token embeddings on a call without cache (positions count them, the mask is extended, their
 * logits are dropped, the returned cache keeps them); a prefix encoder ({@code NDList(ids) → NDList(k0, v0, …)},
 * each (B, S, kv_heads·head_dim)) whose vectors become the key/value cache of a call without one (PEFT's
 * past_key_values; positions start at S, the mask is extended); and per-block bottleneck adapters
 * ({@link DecoderBlock}).
 */
public interface CausalDecoder extends Backbone {

    /** Longest sequence (cache included) the model takes. */
    int maxPositions();

    /**
     * Positions a method's virtual tokens take in front of the real ones (prefix or prompt tuning), 0 without:
     * a sequence and its generated tokens get {@code maxPositions() - virtualTokens()}.
     */
    int virtualTokens();

    /** config.json's {@code eos_token_id} (the first, when it lists several). */
    int eosTokenId();

    /** Writes the backbone (config.json + model.safetensors, method parameters left out) in Hugging Face layout. */
    void save(Path dir) throws IOException;

    /** Block {@code i} and its path ({@code transformer.h.i}, {@code model.layers.i}). */
    DecoderBlock layer(int i);

    String layerPath(int i);

    /** Block {@code i}'s {@code attention_adapters} (pre-norm: no sublayer LayerNorm of its own). */
    @Override
    default AdapterSite attentionAdapterSite(int i) {
        DecoderBlock block = layer(i);
        return new AdapterSite(layerPath(i) + "." + DecoderBlock.ATTENTION_ADAPTERS, null, block::setAttentionAdapter);
    }

    /** Block {@code i}'s {@code output_adapters}. */
    @Override
    default AdapterSite outputAdapterSite(int i) {
        DecoderBlock block = layer(i);
        return new AdapterSite(layerPath(i) + "." + DecoderBlock.OUTPUT_ADAPTERS, null, block::setOutputAdapter);
    }

    /** Loads a Hugging Face layout directory by its config.json's {@code model_type} (gpt2, llama). */
    static CausalDecoder load(Path dir, NDManager manager) throws IOException {
        return load(dir, manager, ai.djl.ndarray.types.DataType.FLOAT32);
    }

    /** As {@link #load(Path, NDManager)} with linear and embedding weights as {@code matrixType} (FLOAT16: fp16). */
    static CausalDecoder load(Path dir, NDManager manager, ai.djl.ndarray.types.DataType matrixType) throws IOException {
        return LlamaCheckpoint.isLlama(dir) ? LlamaCheckpoint.load(dir, manager, matrixType)
                : Gpt2Checkpoint.load(dir, manager, matrixType);
    }
}
