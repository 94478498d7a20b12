package io.peftfoundry.engine.method.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.SpecFields;

import java.util.Set;

/**
 * Prefix tuning hyperparameters (PEFT's PrefixTuningConfig).
 *
 * @param numVirtualTokens P, the number of key/value prefix positions in every attention layer (1–512)
 * @param projectionHiddenSize width of the reparameterisation MLP (PEFT's encoder_hidden_size), 0–8192;
 *     in the job spec 0 means no MLP (as platform-contracts' PrefixSpec)
 * @param prefixProjection true: train a (P, hidden) embedding through the MLP hidden → projection → tanh →
 *     layers·2·hidden (the job spec's setting when projection_hidden_size &gt; 0); false: train the final
 *     (P, layers·2·hidden) vectors directly — also what a saved adapter holds, so a config read from
 *     adapter_config.json loads that way (as PEFT's inference mode)
 */
public record PrefixConfig(int numVirtualTokens, int projectionHiddenSize, boolean prefixProjection) implements MethodConfig {

    public static final int DEFAULT_VIRTUAL_TOKENS = 20;
    public static final int DEFAULT_PROJECTION_HIDDEN_SIZE = 512;
    private static final Set<String> SPEC_FIELDS = Set.of("num_virtual_tokens", "projection_hidden_size");

    public PrefixConfig {
        if (numVirtualTokens < 1 || numVirtualTokens > 512) {
            throw new IllegalArgumentException("method.prefix.num_virtual_tokens: must be between 1 and 512, got " + numVirtualTokens);
        }
        if (projectionHiddenSize < 0 || projectionHiddenSize > 8192) {
            throw new IllegalArgumentException("method.prefix.projection_hidden_size: must be between 0 (no projection MLP)"
                    + " and 8192, got " + projectionHiddenSize);
        }
        if (prefixProjection && projectionHiddenSize == 0) {
            throw new IllegalArgumentException("method.prefix.projection_hidden_size: 0 means no projection MLP");
        }
    }

    public static PrefixConfig defaults() {
        return new PrefixConfig(DEFAULT_VIRTUAL_TOKENS, DEFAULT_PROJECTION_HIDDEN_SIZE, true);
    }

    @Override
    public String methodType() {
        return "prefix";
    }

    @Override
    public String peftType() {
        return "PREFIX_TUNING";
    }

    /** Parses the job spec's {@code method.prefix}: num_virtual_tokens (20), projection_hidden_size (512; 0 = no MLP). */
    public static PrefixConfig fromSpec(JsonNode n) {
        SpecFields f = SpecFields.of(n, "prefix", SPEC_FIELDS);
        int projection = f.integer("projection_hidden_size", DEFAULT_PROJECTION_HIDDEN_SIZE);
        return new PrefixConfig(f.integer("num_virtual_tokens", DEFAULT_VIRTUAL_TOKENS), projection, projection > 0);
    }

    /** Reads PEFT's adapter_config.json; the saved tensor is the final prefix, so no projection is rebuilt. */
    public static PrefixConfig fromAdapterConfig(ObjectNode n) {
        JsonNode p = n.get("num_virtual_tokens");
        if (p == null || !p.canConvertToInt()) {
            throw new IllegalArgumentException("adapter_config.json: PREFIX_TUNING needs an integer num_virtual_tokens");
        }
        JsonNode e = n.get("encoder_hidden_size");
        int projection = e == null || !e.canConvertToInt() ? 0 : Math.max(0, Math.min(8192, e.asInt()));
        return new PrefixConfig(p.asInt(), projection, false);
    }
}
