package io.peftfoundry.engine.method.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.MethodInjector;
import io.peftfoundry.engine.method.MethodTensors;
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Installs bottleneck adapters in every layer: Houlsby after {@code attention.output} and {@code output},
 * Pfeiffer and parallel at {@code output} only, each under AdapterHub's path
 * {@code <sublayer>.adapters.<name>}; in decoder blocks at {@code attention_adapters}/{@code output_adapters}. Initialised as AdapterHub's "mam_adapter": down-projection
 * kaiming-uniform (bound 1/√hidden, zero bias), up-projection all zeros — so the adapted model starts
 * exactly equal to the backbone.
 */
public class AdapterInjector implements MethodInjector<AdapterConfig> {

    /** AdapterHub's weights file. */
    public static final String WEIGHTS_FILE = "adapter.safetensors";

    @Override
    public InjectedMethod inject(Backbone target, AdapterConfig config, NDManager manager, long seed) {
        AdapterHubModels.Model hub = AdapterHubModels.of(target.architecture());
        int hidden = target.hiddenSize();
        int bottleneck = config.bottleneck(hidden);
        Random rnd = new Random(seed);
        Map<String, BottleneckAdapter> adapters = new LinkedHashMap<>();
        NDArray ref = target.tokenEmbedding().weight().getArray(); // dtype and device for new weights
        for (int i = 0; i < target.numLayers(); i++) {
            if (config.variant() == AdapterConfig.Variant.HOULSBY) {
                install(target.attentionAdapterSite(i), hidden, bottleneck, config, manager, rnd, ref, adapters);
            }
            install(target.outputAdapterSite(i), hidden, bottleneck, config, manager, rnd, ref, adapters);
        }
        return new Injected(config, adapters, hub.keyPrefix(), target.architecture(), hub.modelClass());
    }

    private static void install(Backbone.AdapterSite site, int hidden, int bottleneck, AdapterConfig config,
            NDManager manager, Random rnd, NDArray ref, Map<String, BottleneckAdapter> adapters) {
        BottleneckAdapter a = create(hidden, bottleneck, config, site.sublayerNorm(), manager, rnd, ref);
        site.install().accept(new Adapters(config.name(), a));
        adapters.put(site.path() + ".adapters." + config.name(), a);
    }

    private static BottleneckAdapter create(int hidden, int bottleneck, AdapterConfig config, HfModule sublayerNorm,
            NDManager manager, Random rnd, NDArray ref) {
        BottleneckAdapter adapter = new BottleneckAdapter(hidden, bottleneck, config, sublayerNorm);
        MethodTensors.assignNew(adapter.down().weight(), MethodTensors.uniform(manager, rnd, 1.0 / Math.sqrt(hidden), bottleneck, hidden), ref);
        MethodTensors.assignNew(adapter.down().bias(), manager.zeros(new Shape(bottleneck)), ref);
        MethodTensors.assignNew(adapter.up().weight(), manager.zeros(new Shape(hidden, bottleneck)), ref);
        MethodTensors.assignNew(adapter.up().bias(), manager.zeros(new Shape(hidden)), ref);
        return adapter;
    }

    /** AdapterHub's {@code adapters} ModuleDict holding one named adapter; forwards to it. */
    static final class Adapters extends HfModule {
        private final BottleneckAdapter adapter;

        Adapters(String name, BottleneckAdapter adapter) {
            this.adapter = module(name, adapter);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            return adapter.forward(ps, inputs, training);
        }
    }

    /** Bottleneck adapters installed on a backbone. */
    public static final class Injected implements InjectedMethod {
        private final AdapterConfig config;
        private final Map<String, BottleneckAdapter> adapters;
        private final String keyPrefix;
        private final String modelType;
        private final String modelClass;

        Injected(AdapterConfig config, Map<String, BottleneckAdapter> adapters, String keyPrefix, String modelType,
                String modelClass) {
            this.config = config;
            this.adapters = adapters;
            this.keyPrefix = keyPrefix;
            this.modelType = modelType;
            this.modelClass = modelClass;
        }

        /** Adapters by their path in the backbone ({@code encoder.layer.0.output.adapters.default}). */
        public Map<String, BottleneckAdapter> adapters() {
            return adapters;
        }

        @Override
        public MethodConfig config() {
            return config;
        }

        @Override
        public Map<String, Parameter> trainableParameters() {
            Map<String, Parameter> out = new LinkedHashMap<>();
            adapters.forEach((path, a) -> {
                out.put(path + ".adapter_down.0.weight", a.down().weight());
                out.put(path + ".adapter_down.0.bias", a.down().bias());
                out.put(path + ".adapter_up.weight", a.up().weight());
                out.put(path + ".adapter_up.bias", a.up().bias());
            });
            return out;
        }

        /** AdapterHub's adapter_config.json, plus {@code peft_type} so the registry can tell the format; the writer adds model_name. */
        @Override
        public ObjectNode adapterConfig() {
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            n.put("peft_type", config.peftType());
            config.writeBnConfig(n.putObject("config"));
            n.put("name", config.name());
            n.put("type", "text_task");
            n.put("model_type", modelType);
            n.put("model_class", modelClass);
            Parameter any = adapters.values().iterator().next().up().weight();
            n.put("hidden_size", any.getArray().getShape().get(0));
            n.put("version", "adapters.1.0.0");
            return n;
        }

        @Override
        public Map<String, Tensor> stateDict() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            MethodTensors.snapshot(trainableParameters()).forEach((k, t) -> out.put(keyPrefix + k, t));
            return out;
        }

        @Override
        public void loadStateDict(Map<String, Tensor> tensors, NDManager manager) throws IOException {
            Map<String, Tensor> byPath = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                String k = e.getKey();
                byPath.put(!keyPrefix.isEmpty() && k.startsWith(keyPrefix) ? k.substring(keyPrefix.length()) : k, e.getValue());
            }
            MethodTensors.load(trainableParameters(), byPath, manager, "bottleneck adapter");
        }

        @Override
        public String weightsFileName() {
            return WEIGHTS_FILE;
        }

        @Override
        public boolean keysSavedVerbatim() {
            return true;
        }
    }
}
