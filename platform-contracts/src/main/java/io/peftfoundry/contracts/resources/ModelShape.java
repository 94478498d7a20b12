package io.peftfoundry.contracts.resources;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/**
 * The sizes of a backbone that its training memory depends on, as artifact-store reports a model
 * ({@code GET /v1/models/{id}}: {@code family}, {@code parameters} and config.json's sizes in {@code annotations}).
 *
 * @param family           {@code model_type}: {@code bert}, {@code gpt2}, {@code llama} …
 * @param parameters       total parameter count
 * @param hiddenSize       H
 * @param layers           L (transformer blocks)
 * @param heads            A (attention heads)
 * @param intermediateSize I (feed-forward width; 4·H when config.json does not say)
 * @param vocabSize        V
 */
public record ModelShape(String family, long parameters, int hiddenSize, int layers, int heads, int intermediateSize,
                         int vocabSize) {

    /**
     * Reads artifact-store's model object; empty when it lacks the parameter count or the sizes (a model registered
     * before they were recorded): its memory cannot be estimated.
     */
    public static Optional<ModelShape> fromModelView(JsonNode model) {
        if (model == null) {
            return Optional.empty();
        }
        JsonNode a = model.path("annotations");
        String family = model.path("family").asText(model.path("model_type").asText(a.path("model_type").asText(null)));
        int hidden = first(a, "hidden_size", "n_embd");
        int layers = first(a, "num_hidden_layers", "n_layer");
        int heads = first(a, "num_attention_heads", "n_head");
        int vocab = first(a, "vocab_size");
        int intermediate = first(a, "intermediate_size", "n_inner");
        long parameters = model.path("parameters").isNumber() ? model.path("parameters").asLong()
                : a.path("parameters").asLong(0);
        if (family == null || hidden <= 0 || layers <= 0 || heads <= 0 || parameters <= 0) {
            return Optional.empty();
        }
        return Optional.of(new ModelShape(family, parameters, hidden, layers, heads,
                intermediate > 0 ? intermediate : 4 * hidden, Math.max(vocab, 0)));
    }

    private static int first(JsonNode annotations, String... keys) {
        for (String k : keys) {
            if (annotations.path(k).canConvertToInt() && annotations.path(k).asInt() > 0) {
                return annotations.path(k).asInt();
            }
        }
        return 0;
    }
}
