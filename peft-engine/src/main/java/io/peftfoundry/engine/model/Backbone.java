package io.peftfoundry.engine.model;

import ai.djl.nn.Parameter;
import io.peftfoundry.engine.model.bert.BertModel;

import java.util.LinkedHashMap;

/**
 * What a PEFT method sees of a backbone, encoder ({@link BertModel}) or decoder
 * ({@link io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel}, {@link io.peftfoundry.engine.model.llama.LlamaForCausalLM}): its modules and parameters by Hugging Face
 * path, so that a method can wrap any named linear ({@link HfModule#replaceModule}). Methods that need
 * more (bottleneck adapters, prefix and prompt encoders) ask for the encoder with {@link #requireBert}.
 */
public interface Backbone {

    /** Every module (and the root, as "") keyed by dotted path. */
    LinkedHashMap<String, HfModule> namedModules();

    /** Every parameter keyed by its dotted Hugging Face path. */
    LinkedHashMap<String, Parameter> namedParameters();

    /** Short architecture name for messages: {@code bert}, {@code gpt2}, {@code llama}. */
    String architecture();

    /** The backbone as a BERT encoder, or a clear error naming the method that needs one. */
    static BertModel requireBert(Backbone backbone, String method) {
        if (backbone instanceof BertModel bert) {
            return bert;
        }
        throw new IllegalArgumentException("method.type: '" + method + "' is not supported on "
                + backbone.architecture() + " backbones");
    }
}
