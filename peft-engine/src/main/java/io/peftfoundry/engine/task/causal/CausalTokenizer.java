package io.peftfoundry.engine.task.causal;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;

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

    /** Token ids with each token's [start, end) character range in {@code text} (special tokens included). */
    public record Encoded(long[] ids, int[] starts, int[] ends) {}

    public Encoded encodeWithOffsets(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        CharSpan[] spans = e.getCharTokenSpans();
        int[] starts = new int[spans.length];
        int[] ends = new int[spans.length];
        for (int i = 0; i < spans.length; i++) {
            starts[i] = spans[i] == null ? -1 : spans[i].getStart();
            ends[i] = spans[i] == null ? -1 : spans[i].getEnd();
        }
        return new Encoded(e.getIds(), starts, ends);
    }

    /** The id of a token string that the tokenizer keeps whole (a special or added token), or -1. */
    public long tokenId(String token) {
        long[] ids = encode(token);
        return ids.length == 1 ? ids[0] : -1;
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
