package io.peftfoundry.engine.method.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.MethodInjector;
import io.peftfoundry.engine.method.MethodTensors;
import io.peftfoundry.engine.model.Backbone;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Installs a {@link PromptEncoder} as the backbone's prompt encoder (child {@code prompt_encoder}, PEFT's name): on
 * an encoder, and on a decoder, where the soft tokens go in front of an uncached call's token embeddings.
 */
public class PromptInjector implements MethodInjector<PromptConfig> {

    /** PEFT's key for the saved soft prompt. */
    public static final String SAVED_KEY = "prompt_embeddings";
    public static final String MODULE_NAME = "prompt_encoder";

    @Override
    public InjectedMethod inject(Backbone target, PromptConfig config, NDManager manager, long seed) {
        PromptEncoder encoder = create(config, target.tokenEmbedding().weight().getArray(), target.vocabSize(),
                target.hiddenSize(), manager, seed);
        target.setPromptEncoder(MODULE_NAME, encoder);
        return new Injected(config, encoder, target.hiddenSize(), target.numAttentionHeads(), target.numLayers());
    }

    private static PromptEncoder create(PromptConfig config, NDArray words, int vocab, int h, NDManager manager, long seed) {
        int p = config.numVirtualTokens();
        Random rnd = new Random(seed);
        NDArray init;
        if (config.init() == PromptConfig.Init.VOCAB) {
            long[] ids = new long[p];
            for (int i = 0; i < p; i++) {
                ids[i] = rnd.nextInt(vocab);
            }
            init = words.get(manager.create(ids)).duplicate(); // a copy: the word embeddings stay frozen and untouched
        } else {
            init = MethodTensors.normal(manager, rnd, 1.0, p, h);
        }
        PromptEncoder encoder = new PromptEncoder();
        MethodTensors.assignNew(encoder.embedding(), init, words);
        return encoder;
    }

    /** Prompt tuning installed on a backbone. */
    public static final class Injected implements InjectedMethod {
        private final PromptConfig config;
        private final PromptEncoder encoder;
        private final int tokenDim;
        private final int heads;
        private final int layers;

        Injected(PromptConfig config, PromptEncoder encoder, int tokenDim, int heads, int layers) {
            this.config = config;
            this.encoder = encoder;
            this.tokenDim = tokenDim;
            this.heads = heads;
            this.layers = layers;
        }

        public PromptEncoder encoder() {
            return encoder;
        }

        @Override
        public MethodConfig config() {
            return config;
        }

        @Override
        public Map<String, Parameter> trainableParameters() {
            Map<String, Parameter> out = new LinkedHashMap<>();
            out.put(MODULE_NAME + ".embedding.weight", encoder.embedding());
            return out;
        }

        /** PEFT's PROMPT_TUNING fields; the writer adds base model, task type and modules_to_save. */
        @Override
        public ObjectNode adapterConfig() {
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            n.put("peft_type", "PROMPT_TUNING");
            n.put("num_virtual_tokens", config.numVirtualTokens());
            n.put("token_dim", tokenDim);
            n.put("num_transformer_submodules", 1);
            n.put("num_attention_heads", heads);
            n.put("num_layers", layers);
            n.put("prompt_tuning_init", config.init().peftName());
            n.putNull("prompt_tuning_init_text");
            n.putNull("tokenizer_name_or_path");
            n.put("inference_mode", true);
            return n;
        }

        /** The soft prompt (P, hidden) under PEFT's bare key {@code prompt_embeddings}. */
        @Override
        public Map<String, Tensor> stateDict() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put(SAVED_KEY, Tensor.of(encoder.embedding().getArray()));
            return out;
        }

        @Override
        public void loadStateDict(Map<String, Tensor> tensors, NDManager manager) throws IOException {
            MethodTensors.load(Map.of(SAVED_KEY, encoder.embedding()), tensors, manager, "prompt");
        }

        @Override
        public boolean keysSavedVerbatim() {
            return true;
        }
    }
}
