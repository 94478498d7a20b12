package io.peftfoundry.engine.method.adapter;

import java.util.Map;

/**
 * AdapterHub's names per architecture, written to {@code adapter_config.json} and the weight keys so that its
 * {@code adapters} library rebuilds the model: the base model's attribute in the keys of a BERT model ({@code bert.}),
 * none in a decoder's (keys are the backbone's own paths), and the flexible-head model class.
 */
final class AdapterHubModels {

    /** One architecture's names. */
    record Model(String keyPrefix, String modelClass) {}

    private static final Map<String, Model> BY_ARCHITECTURE = Map.of(
            "bert", new Model("bert.", "BertAdapterModel"),
            "gpt2", new Model("", "GPT2AdapterModel"),
            "llama", new Model("", "LlamaAdapterModel"),
            "mistral", new Model("", "LlamaAdapterModel"),
            "qwen2", new Model("", "LlamaAdapterModel"));

    private AdapterHubModels() {}

    static Model of(String architecture) {
        Model m = BY_ARCHITECTURE.get(architecture);
        if (m == null) {
            throw new IllegalArgumentException("method.type: 'adapter' is not supported on " + architecture
                    + " backbones (known: " + new java.util.TreeSet<>(BY_ARCHITECTURE.keySet()) + ")");
        }
        return m;
    }
}
