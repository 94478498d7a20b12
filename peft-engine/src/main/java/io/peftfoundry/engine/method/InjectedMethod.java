package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.Tensor;

import java.io.IOException;
import java.util.Map;

/** A method installed on a backbone: its trainable parameters, its saved form, merge if it has one. */
public interface InjectedMethod {

    MethodConfig config();

    /** The method's trainable parameters keyed by their path in the backbone (head not included). */
    Map<String, Parameter> trainableParameters();

    /**
     * Method-specific fields of {@code adapter_config.json} (peft_type, r, target_modules …);
     * the writer adds base model, task type and modules_to_save.
     */
    ObjectNode adapterConfig();

    /**
     * Tensors to save, keyed by the path relative to the backbone as PEFT writes them without its
     * {@code base_model.model.} prefix and adapter name (e.g. {@code encoder.layer.0.attention.self.query.lora_A.weight}).
     */
    Map<String, Tensor> stateDict();

    /** Loads tensors written by {@link #stateDict()}; missing, extra or mis-shaped tensors fail naming the key. */
    void loadStateDict(Map<String, Tensor> tensors, NDManager manager) throws IOException;

    /**
     * Name of the weights file in the adapter directory: PEFT's {@code adapter_model.safetensors};
     * bottleneck adapters use AdapterHub's {@code adapter.safetensors}.
     */
    default String weightsFileName() {
        return "adapter_model.safetensors";
    }

    /**
     * True when the keys of {@link #stateDict()} are written to the weights file exactly as they are,
     * without the {@code base_model.model.} prefix: PEFT's prompt-learning methods save one bare
     * {@code prompt_embeddings} tensor, AdapterHub keys already start with {@code bert.}.
     */
    default boolean keysSavedVerbatim() {
        return false;
    }

    default boolean supportsMerge() {
        return false;
    }

    /** Folds the method into the backbone weights (LoRA); afterwards the forward pass skips the method. */
    default void merge() {
        throw new UnsupportedOperationException(config().methodType() + " cannot be merged into the backbone");
    }

    default void unmerge() {
        throw new UnsupportedOperationException(config().methodType() + " cannot be merged into the backbone");
    }
}
