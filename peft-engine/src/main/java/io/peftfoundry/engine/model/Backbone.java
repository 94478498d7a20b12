package io.peftfoundry.engine.model;

import ai.djl.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.function.Consumer;

/**
 * What a PEFT method sees of a backbone, encoder ({@link BertModel}) or decoder
 * ({@link io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel}, {@link io.peftfoundry.engine.model.llama.LlamaForCausalLM}): its modules and parameters by Hugging Face
 * path, so that a method can wrap any named linear ({@link HfModule#replaceModule}); its sizes and token embedding; and
 * the prompt and prefix hooks. and the bottleneck adapter sites of each layer.
 */
public interface Backbone {

    /** Every module (and the root, as "") keyed by dotted path. */
    LinkedHashMap<String, HfModule> namedModules();

    /** Every parameter keyed by its dotted Hugging Face path. */
    LinkedHashMap<String, Parameter> namedParameters();

    /** Short architecture name for messages: {@code bert}, {@code gpt2}, {@code llama}. */
    String architecture();

    /** Transformer layers (blocks). */
    int numLayers();

    /** Width of the hidden states (and of the token embeddings). */
    int hiddenSize();

    /** Query heads per attention layer. */
    int numAttentionHeads();

    /** Key/value heads per attention layer (fewer than the query heads with grouped-query attention). */
    int numKeyValueHeads();

    /** Width of one attention head. */
    int headDim();

    /** Rows of the token embedding table. */
    int vocabSize();

    /** The token embedding table (prompt tuning's "vocab" initialisation reads it; new weights take its dtype and device). */
    HfEmbedding tokenEmbedding();

    /**
     * Prompt tuning's hook: {@code encoder} maps {@code NDList(inputIds)} to {@code NDList(soft prompt (B, P, hidden))},
     * put in front of the token embeddings; the model extends the mask and drops the prompt positions from its output.
     */
    void setPromptEncoder(String name, HfModule encoder);

    /**
     * Prefix tuning's hook: {@code encoder} maps {@code NDList(inputIds)} to {@code NDList(k0, v0, k1, v1, …)}, each
     * (B, P, numKeyValueHeads · headDim), used as every layer's leading keys and values; the model extends the mask.
     */
    void setPrefixEncoder(String name, HfModule encoder);

    /**
     * Where a bottleneck adapter goes: the sublayer's module path (the adapter's own keys are {@code
     * <path>.adapters.<name>…}), the sublayer's own LayerNorm (post-norm BERT; null in a pre-norm decoder block), and the
     * hook that installs a module there ({@code NDList(projected, residual) → projected'}).
     */
    record AdapterSite(String path, HfModule sublayerNorm, Consumer<HfModule> install) {}

    /** Layer {@code i}'s adapter site after the attention sublayer (Houlsby's first adapter). */
    AdapterSite attentionAdapterSite(int i);

    /** Layer {@code i}'s adapter site after the feed-forward sublayer (every variant). */
    AdapterSite outputAdapterSite(int i);
}
