package io.peftfoundry.engine.model.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The fields of a Hugging Face BERT {@code config.json} that the encoder needs. */
public record BertConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        float hiddenDropoutProb,
        float attentionProbsDropoutProb,
        int maxPositionEmbeddings,
        int typeVocabSize,
        float layerNormEps,
        int padTokenId) {

    /** config.json's {@code model_type}. */
    public static final String MODEL_TYPE = "bert";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public BertConfig {
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("config.json: hidden_size " + hiddenSize
                    + " is not a multiple of num_attention_heads " + numAttentionHeads);
        }
        if (!"gelu".equals(hiddenAct)) {
            throw new IllegalArgumentException("config.json: hidden_act '" + hiddenAct + "' is not supported (only gelu)");
        }
    }

    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /** A small config for tests and toy tasks. */
    public static BertConfig tiny(int vocab, int hidden, int layers, int heads, int intermediate) {
        return new BertConfig(vocab, hidden, layers, heads, intermediate, "gelu", 0.0f, 0.0f, 64, 2, 1e-12f, 0);
    }

    public BertConfig withoutDropout() {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                0f, 0f, maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId);
    }

    public static BertConfig read(Path configJson) throws IOException {
        JsonNode n = JSON.readTree(configJson.toFile());
        String where = configJson.toString();
        return new BertConfig(
                required(n, "vocab_size", where).asInt(),
                required(n, "hidden_size", where).asInt(),
                required(n, "num_hidden_layers", where).asInt(),
                required(n, "num_attention_heads", where).asInt(),
                required(n, "intermediate_size", where).asInt(),
                n.path("hidden_act").asText("gelu"),
                (float) n.path("hidden_dropout_prob").asDouble(0.1),
                (float) n.path("attention_probs_dropout_prob").asDouble(0.1),
                n.path("max_position_embeddings").asInt(512),
                n.path("type_vocab_size").asInt(2),
                (float) n.path("layer_norm_eps").asDouble(1e-12),
                n.path("pad_token_id").asInt(0));
    }

    private static JsonNode required(JsonNode n, String field, String where) throws IOException {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw new IOException(where + ": missing or non-numeric field '" + field + "'");
        }
        return v;
    }

    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add("BertModel");
        n.put("model_type", MODEL_TYPE);
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("hidden_act", hiddenAct);
        n.put("hidden_dropout_prob", hiddenDropoutProb);
        n.put("attention_probs_dropout_prob", attentionProbsDropoutProb);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("type_vocab_size", typeVocabSize);
        n.put("layer_norm_eps", layerNormEps);
        n.put("pad_token_id", padTokenId);
        n.put("position_embedding_type", "absolute");
        n.put("initializer_range", 0.02);
        return n;
    }

    public void write(Path configJson) throws IOException {
        JSON.writeValue(configJson.toFile(), toJson());
    }
}
