package io.peftfoundry.engine.method.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.contracts.spec.PrefixSpec;
import io.peftfoundry.engine.method.MethodConfig;

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

    /** The job spec's defaults. */
    public static PrefixConfig defaults() {
        return fromSpec(MethodSpec.prefix(PrefixSpec.defaults()), "bert");
    }

    @Override
    public String methodType() {
        return "prefix";
    }

    @Override
    public String peftType() {
        return "PREFIX_TUNING";
    }

    /**
     * The job spec's {@code method.prefix} (platform-contracts {@link PrefixSpec}, checked by {@code SpecValidator}):
     * projection_hidden_size 0 trains the prefix vectors directly.
     */
    public static PrefixConfig fromSpec(MethodSpec method, String modelType) {
        PrefixSpec s = method.withDefaults().prefix();
        return new PrefixConfig(s.numVirtualTokens(), s.projectionHiddenSize(), s.projectionHiddenSize() > 0);
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
