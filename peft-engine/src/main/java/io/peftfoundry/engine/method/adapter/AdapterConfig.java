package io.peftfoundry.engine.method.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.AdapterSpec;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.engine.method.MethodConfig;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Bottleneck adapter hyperparameters. Each variant is an AdapterHub bottleneck config, written to
 * {@code adapter_config.json} with AdapterHub's field names so that its {@code adapters} library rebuilds
 * the same function:
 * <ul>
 *   <li>{@code houlsby} (AdapterHub DoubleSeqBn): after the attention output and after the FFN,
 *       {@code p' = p + s·f(p)} on the sublayer's projection p, before the residual add and LayerNorm;</li>
 *   <li>{@code pfeiffer} (AdapterHub SeqBn): after the FFN only, on the layer-normed sum with the
 *       residual taken before that norm: {@code p' = p + s·f(LN(p + r))} (original_ln_before, residual_before_ln);</li>
 *   <li>{@code parallel} (AdapterHub ParBn, He et al.): beside the FFN on the FFN's input r: {@code p' = p + s·f(r)}.</li>
 * </ul>
 * with {@code f(x) = W_up·act(W_down·x + b_down) + b_up}; then the block's own {@code LN(p' + r)}.
 *
 * @param variant where the adapters go and what they read
 * @param reductionFactor hidden size / bottleneck size (bottleneck = floor(hidden / factor), at least 1)
 * @param activation relu, gelu, swish (= silu) or tanh
 * @param scaling s; 1.0 for the sequential variants, 4.0 for parallel (AdapterHub's defaults)
 * @param name the adapter's name in AdapterHub keys ({@code …adapters.<name>.adapter_up.weight})
 */
public record AdapterConfig(Variant variant, double reductionFactor, String activation, double scaling, String name)
        implements MethodConfig {

    /** Adapter placement. */
    public enum Variant {
        HOULSBY, PFEIFFER, PARALLEL;

        public String specName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String DEFAULT_NAME = "default";
    public static final List<String> ACTIVATIONS = List.of("relu", "gelu", "swish", "silu", "tanh");

    public AdapterConfig {
        if (variant == null) {
            throw new IllegalArgumentException("method.adapter.variant: must be one of houlsby, pfeiffer, parallel");
        }
        if (!(reductionFactor >= 1 && reductionFactor <= 4096)) {
            throw new IllegalArgumentException("method.adapter.reduction_factor: must be between 1 and 4096, got " + reductionFactor);
        }
        activation = activation == null ? "relu" : activation.toLowerCase(Locale.ROOT);
        if (!ACTIVATIONS.contains(activation)) {
            throw new IllegalArgumentException("method.adapter.activation: must be one of " + ACTIVATIONS + ", got '" + activation + "'");
        }
        if (activation.equals("silu")) {
            activation = "swish"; // one function, AdapterHub's name
        }
        if (!(scaling > 0) || Double.isInfinite(scaling)) {
            throw new IllegalArgumentException("adapter scaling must be > 0, got " + scaling);
        }
        if (name == null || name.isBlank() || name.contains(".")) {
            throw new IllegalArgumentException("adapter name must be non-empty and without dots, got '" + name + "'");
        }
    }

    public static AdapterConfig of(Variant variant, double reductionFactor, String activation) {
        return new AdapterConfig(variant, reductionFactor, activation, variant == Variant.PARALLEL ? 4.0 : 1.0, DEFAULT_NAME);
    }

    /** The job spec's defaults (platform-contracts AdapterSpec): pfeiffer, 16, relu. */
    public static AdapterConfig defaults() {
        return fromSpec(MethodSpec.adapter(AdapterSpec.defaults()), "bert");
    }

    /** Bottleneck size for a hidden size, as AdapterHub computes it. */
    public int bottleneck(int hidden) {
        return Math.max(1, (int) Math.floor(hidden / reductionFactor));
    }

    @Override
    public String methodType() {
        return "adapter";
    }

    @Override
    public String peftType() {
        return "BOTTLENECK_ADAPTER";
    }

    /** The job spec's {@code method.adapter} (platform-contracts {@link AdapterSpec}, checked by {@code SpecValidator}). */
    public static AdapterConfig fromSpec(MethodSpec method, String modelType) {
        AdapterSpec s = method.withDefaults().adapter();
        return of(Variant.valueOf(s.variant().name()), s.reductionFactor(), s.activation());
    }

    /**
     * Reads AdapterHub's adapter_config.json ({@code name}, {@code config: {mh_adapter, output_adapter,
     * is_parallel, original_ln_before, reduction_factor, non_linearity, scaling …}}). Options this
     * engine does not implement (extra LayerNorms, gating, PHM, per-layer factors, left-out layers) are refused by name.
     */
    public static AdapterConfig fromAdapterConfig(ObjectNode n) {
        JsonNode c = n.get("config");
        if (c == null || !c.isObject()) {
            throw new IllegalArgumentException("adapter_config.json: no 'config' object (not an AdapterHub bottleneck adapter)");
        }
        for (String unsupported : List.of("ln_before", "ln_after", "use_gating", "phm_layer", "cross_adapter")) {
            if (c.path(unsupported).asBoolean(false)) {
                throw new IllegalArgumentException("adapter_config.json config." + unsupported + ": true is not supported");
            }
        }
        if (c.has("leave_out") && c.get("leave_out").size() > 0) {
            throw new IllegalArgumentException("adapter_config.json config.leave_out: leaving out layers is not supported");
        }
        if (c.has("inv_adapter") && !c.get("inv_adapter").isNull()) {
            throw new IllegalArgumentException("adapter_config.json config.inv_adapter: invertible adapters are not supported");
        }
        if (!c.path("original_ln_after").asBoolean(true) || !c.path("residual_before_ln").asText("true").equals("true")) {
            throw new IllegalArgumentException("adapter_config.json config: only original_ln_after=true and residual_before_ln=true are supported");
        }
        if (!c.path("reduction_factor").isNumber()) {
            throw new IllegalArgumentException("adapter_config.json config.reduction_factor: must be one number (per-layer mappings are not supported)");
        }
        if (!c.path("output_adapter").asBoolean(false)) {
            throw new IllegalArgumentException("adapter_config.json config.output_adapter: adapters without the FFN adapter are not supported");
        }
        boolean parallel = c.path("is_parallel").asBoolean(false);
        boolean mh = c.path("mh_adapter").asBoolean(false);
        boolean lnBefore = c.path("original_ln_before").asBoolean(false);
        Variant variant;
        if (parallel && !mh && !lnBefore) {
            variant = Variant.PARALLEL;
        } else if (!parallel && mh && !lnBefore) {
            variant = Variant.HOULSBY;
        } else if (!parallel && !mh && lnBefore) {
            variant = Variant.PFEIFFER;
        } else {
            throw new IllegalArgumentException("adapter_config.json config: mh_adapter=" + mh + ", is_parallel=" + parallel
                    + ", original_ln_before=" + lnBefore + " is none of houlsby, pfeiffer, parallel");
        }
        JsonNode scaling = c.get("scaling");
        if (scaling != null && !scaling.isNumber()) {
            throw new IllegalArgumentException("adapter_config.json config.scaling: learned scaling is not supported");
        }
        return new AdapterConfig(variant, c.get("reduction_factor").asDouble(), c.path("non_linearity").asText("relu"),
                scaling == null ? 1.0 : scaling.asDouble(), n.path("name").asText(DEFAULT_NAME));
    }

    /** AdapterHub's bottleneck config dict (BnConfig fields), describing exactly what this engine computes. */
    public void writeBnConfig(ObjectNode c) {
        c.put("architecture", "bottleneck");
        c.put("mh_adapter", variant == Variant.HOULSBY);
        c.put("output_adapter", true);
        if (reductionFactor == Math.rint(reductionFactor)) {
            c.put("reduction_factor", (long) reductionFactor);
        } else {
            c.put("reduction_factor", reductionFactor);
        }
        c.put("non_linearity", activation);
        c.put("original_ln_before", variant == Variant.PFEIFFER);
        c.put("original_ln_after", true);
        c.put("ln_before", false);
        c.put("ln_after", false);
        c.put("init_weights", "mam_adapter"); // kaiming-uniform down, zero up: starts as the identity
        c.put("is_parallel", variant == Variant.PARALLEL);
        c.put("scaling", scaling);
        c.put("use_gating", false);
        c.put("residual_before_ln", true);
        c.put("adapter_residual_before_ln", false);
        c.putNull("inv_adapter");
        c.putNull("inv_adapter_reduction_factor");
        c.put("cross_adapter", false);
        c.putArray("leave_out");
        c.put("dropout", 0.0);
        c.put("phm_layer", false);
        c.put("stochastic_depth", 0.0);
    }
}
