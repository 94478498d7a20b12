package io.peftfoundry.engine.model.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The fields of a Hugging Face {@code config.json} that the LLaMA-shaped decoder needs, for the families that share
 * its layout ({@code model_type}): {@code llama}, {@code mistral} (sliding-window attention) and {@code qwen2}
 * (biases on q/k/v only). Rotary settings are read from transformers 5's {@code rope_parameters} or the older
 * {@code rope_theta} + {@code rope_scaling}; scaling types default, {@code linear} and {@code llama3} are supported.
 * Anything this decoder would compute differently (another rope type, hidden_act, partial rotary, Qwen2's sliding
 * layers, a quantization_config) is refused when the config is read, naming the field.
 */
public record LlamaConfig(
        String modelType,
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
        int eosTokenId,
        boolean qkvBias,
        int slidingWindow,
        RopeScaling ropeScaling) {

    /** The model_type values this decoder reads. */
    public static final java.util.Set<String> FAMILIES = java.util.Set.of("llama", "mistral", "qwen2");

    /**
     * Rotary frequency scaling ({@code rope_type} default, linear or llama3). Linear divides every inverse frequency
     * by {@code factor}; llama3 divides the low frequencies (wavelength above original/lowFreqFactor) by
     * {@code factor}, keeps the high ones (below original/highFreqFactor) and blends in between.
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
            int originalMaxPositions) {
        public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);
    }

    /** LLaMA's layout without the newer fields: no q/k/v-only bias, no sliding window, no rope scaling. */
    public LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
            int numKeyValueHeads, int headDim, int maxPositionEmbeddings, float rmsNormEps, double ropeTheta,
            boolean attentionBias, boolean mlpBias, boolean tieWordEmbeddings, int bosTokenId, int eosTokenId) {
        this("llama", vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, attentionBias, mlpBias, tieWordEmbeddings,
                bosTokenId, eosTokenId, false, 0, RopeScaling.NONE);
    }

    /** q_proj, k_proj and v_proj have a bias (LLaMA's attention_bias, always for Qwen2). */
    public boolean projectionBias() {
        return attentionBias || qkvBias;
    }

    /** The same config with other sizes (a probe or a test keeps the family's features). */
    public LlamaConfig resized(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDimension,
            int positions) {
        return new LlamaConfig(modelType, vocab, hidden, intermediate, layers, heads, kvHeads, headDimension, positions,
                rmsNormEps, ropeTheta, attentionBias, mlpBias, tieWordEmbeddings, Math.min(bosTokenId, vocab - 1),
                Math.min(eosTokenId, vocab - 1), qkvBias, slidingWindow, ropeScaling);
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public LlamaConfig {
        if (numKeyValueHeads <= 0 || numAttentionHeads % numKeyValueHeads != 0) {
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
        if (!FAMILIES.contains(type)) {
            throw new IOException(where + ": model_type '" + type + "' is not one of " + new java.util.TreeSet<>(FAMILIES));
        }
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IOException(where + ": hidden_act '" + act + "' is not supported (silu)");
        }
        if (n.path("pretraining_tp").asInt(1) != 1) {
            throw new IOException(where + ": pretraining_tp other than 1 is not supported");
        }
        if (n.hasNonNull("quantization_config")) {
            throw new IOException(where + ": quantization_config is not supported (float weights only)");
        }
        if (n.hasNonNull("partial_rotary_factor") && n.path("partial_rotary_factor").asDouble() != 1.0) {
            throw new IOException(where + ": partial_rotary_factor " + n.get("partial_rotary_factor")
                    + " is not supported (1.0: rotary on the whole head)");
        }
        double theta = n.path("rope_theta").asDouble(10000.0);
        RopeScaling scaling = RopeScaling.NONE;
        JsonNode rope = n.get("rope_parameters");
        if (rope != null && rope.isObject()) {
            theta = rope.path("rope_theta").asDouble(theta);
            scaling = ropeScaling(rope, "rope_parameters", where);
        }
        JsonNode legacy = n.get("rope_scaling");
        if (legacy != null && legacy.isObject()) {
            scaling = ropeScaling(legacy, "rope_scaling", where);
        }
        int window = 0;
        if (type.equals("mistral")) {
            JsonNode w = n.get("sliding_window");
            if (w != null && !w.isNull()) {
                if (!w.canConvertToInt() || w.asInt() <= 0) {
                    throw new IOException(where + ": sliding_window " + w + " must be a positive integer or null");
                }
                window = w.asInt();
            }
        }
        if (type.equals("qwen2")) {
            // Qwen2 applies its window only when use_sliding_window is set (then to layers past max_window_layers)
            if (n.path("use_sliding_window").asBoolean(false)) {
                throw new IOException(where + ": use_sliding_window true is not supported for qwen2 (full attention only)");
            }
            JsonNode kinds = n.get("layer_types");
            if (kinds != null && kinds.isArray()) {
                for (JsonNode k : kinds) {
                    if (!k.asText().equals("full_attention")) {
                        throw new IOException(where + ": layer_types entry '" + k.asText()
                                + "' is not supported for qwen2 (full_attention only)");
                    }
                }
            }
        }
        int hidden = required(n, "hidden_size", where).asInt();
        int heads = required(n, "num_attention_heads", where).asInt();
        if (heads <= 0 || hidden <= 0) {
            throw new IOException(where + ": hidden_size and num_attention_heads must be positive");
        }
        JsonNode kv = n.get("num_key_value_heads");
        JsonNode headDim = n.get("head_dim");
        return new LlamaConfig(
                type,
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
                // Qwen2 has q/k/v biases and no o_proj bias whatever attention_bias says; Mistral has none
                type.equals("llama") && n.path("attention_bias").asBoolean(false),
                type.equals("llama") && n.path("mlp_bias").asBoolean(false),
                n.path("tie_word_embeddings").asBoolean(false),
                firstInt(n.get("bos_token_id"), 1),
                firstInt(n.get("eos_token_id"), 2),
                type.equals("qwen2"),
                window,
                scaling);
    }

    private static RopeScaling ropeScaling(JsonNode rope, String field, String where) throws IOException {
        String kind = rope.path("rope_type").asText(rope.path("type").asText("default"));
        switch (kind) {
            case "default":
                return RopeScaling.NONE;
            case "linear":
                return new RopeScaling(kind, positive(rope, "factor", field, where), 0, 0, 0);
            case "llama3": {
                double factor = positive(rope, "factor", field, where);
                double low = positive(rope, "low_freq_factor", field, where);
                double high = positive(rope, "high_freq_factor", field, where);
                if (high <= low) {
                    throw new IOException(where + ": " + field + ".high_freq_factor " + high
                            + " must be above low_freq_factor " + low);
                }
                double original = positive(rope, "original_max_position_embeddings", field, where);
                return new RopeScaling(kind, factor, low, high, (int) original);
            }
            default:
                throw new IOException(where + ": " + field + ".rope_type '" + kind
                        + "' is not supported (default, linear, llama3)");
        }
    }

    private static double positive(JsonNode rope, String key, String field, String where) throws IOException {
        JsonNode v = rope.get(key);
        if (v == null || !v.isNumber() || v.asDouble() <= 0) {
            throw new IOException(where + ": " + field + "." + key + " must be a positive number (rope_type "
                    + rope.path("rope_type").asText(rope.path("type").asText()) + ")");
        }
        return v.asDouble();
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
        n.putArray("architectures").add(switch (modelType) {
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            default -> "LlamaForCausalLM";
        });
        n.put("model_type", modelType);
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
        if (modelType.equals("llama")) {
            n.put("attention_bias", attentionBias);
            n.put("mlp_bias", mlpBias);
        }
        if (modelType.equals("mistral")) {
            if (slidingWindow > 0) {
                n.put("sliding_window", slidingWindow);
            } else {
                n.putNull("sliding_window");
            }
        }
        if (modelType.equals("qwen2")) {
            n.put("use_sliding_window", false);
        }
        if (!ropeScaling.type().equals("default")) {
            ObjectNode r = n.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.type());
            r.put("factor", ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                r.put("low_freq_factor", ropeScaling.lowFreqFactor());
                r.put("high_freq_factor", ropeScaling.highFreqFactor());
                r.put("original_max_position_embeddings", ropeScaling.originalMaxPositions());
            }
        }
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
