package io.peftfoundry.engine.task.causal;

import java.util.List;

/**
 * Decoding settings.
 *
 * @param maxNewTokens tokens to generate at most
 * @param temperature 0 = greedy (argmax); otherwise logits are divided by it before sampling
 * @param topP nucleus sampling: sample from the smallest set of tokens whose probability reaches top_p (1 = all)
 * @param stop generation ends when the generated text contains one of these; the text is cut before it
 * @param seed seeds the sampler
 */
public record GenerationConfig(int maxNewTokens, double temperature, double topP, List<String> stop, long seed) {

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max_new_tokens must be at least 0, got " + maxNewTokens);
        }
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must be at least 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 1, List.of(), 0);
    }
}
