package io.peftfoundry.engine.model.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The fields of a Hugging Face LLaMA {@code config.json} that the decoder needs. {@code rope_theta} is read
 * from transformers 5's {@code rope_parameters} or the older top-level field; only the default rotary
 * embedding is supported (a {@code rope_scaling}/{@code rope_type} other than default is refused).
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int maxPositionEmbeddings,
        float rmsNormEps,
        double ropeTheta,
        boolean attentionBias,
        boolean mlpBias,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public LlamaConfig {
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("config.json: num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("config.json: head_dim " + headDim + " must be even (rotary embedding)");
        }
    }

    /** Query heads that share one key/value head (grouped-query attention). */
    public int groupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** A small config for tests: LLaMA's defaults otherwise (eps 1e-6, theta 10000, untied head). */
    public static LlamaConfig tiny(int vocab, int hidden, int layers, int heads, int kvHeads, int positions, boolean tied) {
        return new LlamaConfig(vocab, hidden, 2 * hidden + hidden / 2, layers, heads, kvHeads, hidden / heads, positions,
                1e-6f, 10000.0, false, false, tied, vocab - 1, vocab - 1);
    }

    public static LlamaConfig read(Path configJson) throws IOException {
        JsonNode n = JSON.readTree(configJson.toFile());
        String where = configJson.toString();
        String type = n.path("model_type").asText("llama");
        if (!type.equals("llama")) {
            throw new IOException(where + ": model_type '" + type + "' is not llama");
        }
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IOException(where + ": hidden_act '" + act + "' is not supported (silu)");
        }
        if (n.path("pretraining_tp").asInt(1) != 1) {
            throw new IOException(where + ": pretraining_tp other than 1 is not supported");
        }
        double theta = n.path("rope_theta").asDouble(10000.0);
        JsonNode rope = n.get("rope_parameters");
        if (rope != null && rope.isObject()) {
            theta = rope.path("rope_theta").asDouble(theta);
            checkDefaultRope(rope, where);
        }
        JsonNode scaling = n.get("rope_scaling");
        if (scaling != null && scaling.isObject()) {
            checkDefaultRope(scaling, where);
        }
        int hidden = required(n, "hidden_size", where).asInt();
        int heads = required(n, "num_attention_heads", where).asInt();
        JsonNode kv = n.get("num_key_value_heads");
        JsonNode headDim = n.get("head_dim");
        return new LlamaConfig(
                required(n, "vocab_size", where).asInt(),
                hidden,
                required(n, "intermediate_size", where).asInt(),
                required(n, "num_hidden_layers", where).asInt(),
                heads,
                kv == null || kv.isNull() ? heads : kv.asInt(),
                headDim == null || headDim.isNull() ? hidden / heads : headDim.asInt(),
                n.path("max_position_embeddings").asInt(2048),
                (float) n.path("rms_norm_eps").asDouble(1e-6),
                theta,
                n.path("attention_bias").asBoolean(false),
                n.path("mlp_bias").asBoolean(false),
                n.path("tie_word_embeddings").asBoolean(false),
                n.path("bos_token_id").asInt(1),
                firstInt(n.get("eos_token_id"), 2));
    }

    private static void checkDefaultRope(JsonNode rope, String where) throws IOException {
        String kind = rope.path("rope_type").asText(rope.path("type").asText("default"));
        if (!kind.equals("default")) {
            throw new IOException(where + ": rope_type '" + kind + "' is not supported (default only)");
        }
    }

    private static int firstInt(JsonNode v, int dflt) {
        if (v == null || v.isNull()) {
            return dflt;
        }
        return v.isArray() ? v.get(0).asInt() : v.asInt();
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
        n.putArray("architectures").add("LlamaForCausalLM");
        n.put("model_type", "llama");
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("head_dim", headDim);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        n.put("hidden_act", "silu");
        n.put("attention_bias", attentionBias);
        n.put("mlp_bias", mlpBias);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("initializer_range", 0.02);
        n.put("bos_token_id", bosTokenId);
        n.put("eos_token_id", eosTokenId);
        return n;
    }

    public void write(Path configJson) throws IOException {
        JSON.writeValue(configJson.toFile(), toJson());
    }
}
