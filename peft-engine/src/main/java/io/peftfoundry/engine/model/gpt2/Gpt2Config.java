package io.peftfoundry.engine.model.gpt2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/** The fields of a Hugging Face GPT-2 {@code config.json} that the decoder needs. */
public record Gpt2Config(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        int nInner,
        String activationFunction,
        float residPdrop,
        float embdPdrop,
        float attnPdrop,
        float layerNormEpsilon,
        int bosTokenId,
        int eosTokenId) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public Gpt2Config {
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("config.json: n_embd " + nEmbd + " is not a multiple of n_head " + nHead);
        }
        if (!activationFunction.equals("gelu_new") && !activationFunction.equals("gelu_pytorch_tanh")
                && !activationFunction.equals("gelu")) {
            throw new IllegalArgumentException("config.json: activation_function '" + activationFunction
                    + "' is not supported (gelu_new, gelu_pytorch_tanh, gelu)");
        }
    }

    public int headSize() {
        return nEmbd / nHead;
    }

    /** A small config without dropout for tests: GPT-2's defaults otherwise (gelu_new, eps 1e-5). */
    public static Gpt2Config tiny(int vocab, int embd, int layers, int heads, int positions) {
        return new Gpt2Config(vocab, positions, embd, layers, heads, 4 * embd, "gelu_new", 0f, 0f, 0f, 1e-5f,
                vocab - 1, vocab - 1);
    }

    public Gpt2Config withoutDropout() {
        return new Gpt2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, nInner, activationFunction, 0f, 0f, 0f,
                layerNormEpsilon, bosTokenId, eosTokenId);
    }

    public static Gpt2Config read(Path configJson) throws IOException {
        JsonNode n = JSON.readTree(configJson.toFile());
        String where = configJson.toString();
        String type = n.path("model_type").asText("gpt2");
        if (!type.equals("gpt2")) {
            throw new IOException(where + ": model_type '" + type + "' is not gpt2");
        }
        int embd = required(n, "n_embd", where).asInt();
        JsonNode inner = n.get("n_inner");
        return new Gpt2Config(
                required(n, "vocab_size", where).asInt(),
                required(n, "n_positions", where).asInt(),
                embd,
                required(n, "n_layer", where).asInt(),
                required(n, "n_head", where).asInt(),
                inner == null || inner.isNull() ? 4 * embd : inner.asInt(),
                n.path("activation_function").asText("gelu_new"),
                (float) n.path("resid_pdrop").asDouble(0.1),
                (float) n.path("embd_pdrop").asDouble(0.1),
                (float) n.path("attn_pdrop").asDouble(0.1),
                (float) n.path("layer_norm_epsilon").asDouble(1e-5),
                n.path("bos_token_id").asInt(50256),
                n.path("eos_token_id").asInt(50256));
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
        n.putArray("architectures").add("GPT2LMHeadModel");
        n.put("model_type", "gpt2");
        n.put("vocab_size", vocabSize);
        n.put("n_positions", nPositions);
        n.put("n_ctx", nPositions);
        n.put("n_embd", nEmbd);
        n.put("n_layer", nLayer);
        n.put("n_head", nHead);
        n.put("n_inner", nInner);
        n.put("activation_function", activationFunction);
        n.put("resid_pdrop", residPdrop);
        n.put("embd_pdrop", embdPdrop);
        n.put("attn_pdrop", attnPdrop);
        n.put("layer_norm_epsilon", layerNormEpsilon);
        n.put("initializer_range", 0.02);
        n.put("bos_token_id", bosTokenId);
        n.put("eos_token_id", eosTokenId);
        n.put("tie_word_embeddings", true);
        return n;
    }

    public void write(Path configJson) throws IOException {
        JSON.writeValue(configJson.toFile(), toJson());
    }
}
