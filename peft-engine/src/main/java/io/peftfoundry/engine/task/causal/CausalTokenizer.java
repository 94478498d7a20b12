package io.peftfoundry.engine.task.causal;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A byte-level BPE {@code tokenizer.json} (GPT-2 / LLaMA style) through DJL's Hugging Face tokenizers:
 * plain text ↔ token ids, no special tokens added, no truncation (the causal tasks decide that).
 */
public final class CausalTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;

    public CausalTokenizer(Path tokenizerJson) throws IOException {
        this.tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    public long[] encode(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
