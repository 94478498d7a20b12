package io.peftfoundry.engine.method.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.MethodInjector;
import io.peftfoundry.engine.method.MethodTensors;
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfLinear;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Installs a {@link PrefixEncoder} as the backbone's prefix encoder (child {@code prompt_encoder}, PEFT's
 * name); the backbone extends the attention mask with P ones. On a decoder the prefix is the key/value cache of
 * an uncached call (PEFT's past_key_values), sized for the key/value heads as PEFT does for grouped-query attention. Initialisation as PyTorch's defaults in
 * PEFT: embedding normal(0, 1), each MLP linear weight and bias uniform(±1/√in).
 */
public class PrefixInjector implements MethodInjector<PrefixConfig> {

    /** PEFT's key for the saved prefix (no module path, no base_model.model. prefix). */
    public static final String SAVED_KEY = "prompt_embeddings";
    public static final String MODULE_NAME = "prompt_encoder";

    @Override
    public InjectedMethod inject(Backbone target, PrefixConfig config, NDManager manager, long seed) {
        // PEFT with grouped-query attention: token_dim = kv_heads · head_dim, num_attention_heads = kv_heads
        // (on BERT, kv_heads = heads and kv_heads · head_dim = hidden)
        int tokenDim = target.numKeyValueHeads() * target.headDim();
        PrefixEncoder encoder = create(config, tokenDim, target.numLayers(), manager,
                target.tokenEmbedding().weight().getArray(), seed);
        target.setPrefixEncoder(MODULE_NAME, encoder);
        return new Injected(config, encoder, tokenDim, target.numKeyValueHeads(), target.numLayers(), manager);
    }

    private static PrefixEncoder create(PrefixConfig config, int h, int layers, NDManager manager, NDArray ref, long seed) {
        int p = config.numVirtualTokens();
        PrefixEncoder encoder = new PrefixEncoder(p, h, layers, config.prefixProjection() ? config.projectionHiddenSize() : 0);
        Random rnd = new Random(seed);
        if (config.prefixProjection()) {
            MethodTensors.assignNew(encoder.embedding(), MethodTensors.normal(manager, rnd, 1.0, p, h), ref);
            for (HfLinear l : encoder.transformLayers()) {
                double bound = 1.0 / Math.sqrt(l.inFeatures());
                MethodTensors.assignNew(l.weight(), MethodTensors.uniform(manager, rnd, bound, l.outFeatures(), l.inFeatures()), ref);
                MethodTensors.assignNew(l.bias(), MethodTensors.uniform(manager, rnd, bound, l.outFeatures()), ref);
            }
        } else {
            // the final vectors trained directly: start at a small scale, comparable to projected keys/values
            MethodTensors.assignNew(encoder.embedding(), MethodTensors.normal(manager, rnd, 0.02, p, (long) layers * 2 * h), ref);
        }
        return encoder;
    }

    /** Prefix tuning installed on a backbone. */
    public static final class Injected implements InjectedMethod {
        private final PrefixConfig config;
        private final PrefixEncoder encoder;
        private final int tokenDim;
        private final int heads;
        private final int layers;
        private final ParameterStore ps;

        /** {@code tokenDim}, {@code heads}: PEFT's token_dim and num_attention_heads (the key/value heads on a GQA decoder). */
        Injected(PrefixConfig config, PrefixEncoder encoder, int tokenDim, int heads, int layers, NDManager manager) {
            this.config = config;
            this.encoder = encoder;
            this.tokenDim = tokenDim;
            this.heads = heads;
            this.layers = layers;
            this.ps = new ParameterStore(manager, false);
        }

        public PrefixEncoder encoder() {
            return encoder;
        }

        @Override
        public MethodConfig config() {
            return config;
        }

        @Override
        public Map<String, Parameter> trainableParameters() {
            Map<String, Parameter> out = new LinkedHashMap<>();
            encoder.namedParameters().forEach((k, v) -> out.put(MODULE_NAME + "." + k, v));
            return out;
        }

        /** PEFT's PREFIX_TUNING fields; the writer adds base model, task type and modules_to_save. */
        @Override
        public ObjectNode adapterConfig() {
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            n.put("peft_type", "PREFIX_TUNING");
            n.put("num_virtual_tokens", config.numVirtualTokens());
            n.put("token_dim", tokenDim);
            n.put("num_transformer_submodules", 1);
            n.put("num_attention_heads", heads);
            n.put("num_layers", layers);
            // PEFT fills a missing encoder_hidden_size with token_dim; only read when prefix_projection is true
            n.put("encoder_hidden_size", config.prefixProjection() ? config.projectionHiddenSize() : tokenDim);
            n.put("prefix_projection", config.prefixProjection());
            n.put("inference_mode", true);
            return n;
        }

        /** The final prefix vectors, (P, layers·2·hidden), under PEFT's bare key {@code prompt_embeddings}. */
        @Override
        public Map<String, Tensor> stateDict() {
            NDArray t = encoder.table(ps, false);
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put(SAVED_KEY, Tensor.of(t));
            return out;
        }

        /** Loads final vectors; only an encoder without reparameterisation (a config read from adapter_config.json) holds them. */
        @Override
        public void loadStateDict(Map<String, Tensor> tensors, NDManager manager) throws IOException {
            if (config.prefixProjection()) {
                throw new IOException("saved prefix vectors load into a prefix encoder without the projection MLP:"
                        + " inject the config read from adapter_config.json (prefix_projection is not rebuilt)");
            }
            Map<String, Parameter> params = Map.of(SAVED_KEY, encoder.embedding());
            MethodTensors.load(params, tensors, manager, "prefix");
        }

        @Override
        public boolean keysSavedVerbatim() {
            return true;
        }
    }
}
