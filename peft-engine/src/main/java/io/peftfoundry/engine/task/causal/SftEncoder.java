package io.peftfoundry.engine.task.causal;

import java.util.Arrays;

/**
 * Turns a prompt/completion pair into a {@link TokenSequence} for supervised fine-tuning:
 * {@code prompt tokens + completion tokens + EOS}, with only the completion tokens and EOS as loss
 * targets (the prompt is context).
 *
 * <p>Length rule (max_seq_length = L): a pair that fits is kept whole. Otherwise the prompt is kept
 * whole and the completion is cut to fill L (no EOS: the text did not end there), as long as at least
 * one completion token remains; a prompt of L or more tokens leaves nothing to learn and the pair is
 * rejected ({@link #encode} returns null, the caller counts and reports it). Prompt and completion
 * are tokenized separately so the boundary between them is a token boundary.
 */
public final class SftEncoder {

    private final CausalTokenizer tokenizer;
    private final long eosId;
    private final int maxLength;

    public SftEncoder(CausalTokenizer tokenizer, long eosId, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("max_seq_length must be at least 2, got " + maxLength);
        }
        this.tokenizer = tokenizer;
        this.eosId = eosId;
        this.maxLength = maxLength;
    }

    /** The sequence, or null when the prompt alone fills max_seq_length. */
    public TokenSequence encode(String prompt, String completion) {
        return encode(tokenizer.encode(prompt), tokenizer.encode(completion), eosId, maxLength);
    }

    /** The rule on token ids (see the class comment). */
    public static TokenSequence encode(long[] prompt, long[] completion, long eosId, int maxLength) {
        if (prompt.length >= maxLength || prompt.length == 0 && completion.length == 0) {
            return null;
        }
        long[] full = new long[prompt.length + completion.length + 1];
        System.arraycopy(prompt, 0, full, 0, prompt.length);
        System.arraycopy(completion, 0, full, prompt.length, completion.length);
        full[full.length - 1] = eosId;
        int len = Math.min(full.length, maxLength);
        long[] ids = Arrays.copyOf(full, len);
        long[] targets = new long[len];
        // position 0 has no predecessor, so with an empty prompt the first completion token is context
        Arrays.fill(targets, Math.max(prompt.length, 1), len, 1L);
        return new TokenSequence(ids, targets);
    }
}
