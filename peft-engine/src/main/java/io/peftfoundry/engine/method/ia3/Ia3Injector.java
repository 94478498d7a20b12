package io.peftfoundry.engine.method.ia3;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.MethodInjector;
import io.peftfoundry.engine.method.MethodTensors;
import io.peftfoundry.engine.method.lora.LoraInjector;
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Wraps every linear layer matching a target (PEFT's suffix rule) in an {@link Ia3Linear} whose
 * scales start at 1, so the wrapped model starts equal to the backbone. No randomness: the seed is unused.
 */
public class Ia3Injector implements MethodInjector<Ia3Config> {

    @Override
    public InjectedMethod inject(Backbone backbone, Ia3Config config, NDManager manager, long seed) {
        Map<String, HfModule> modules = backbone.namedModules();
        Set<String> unmatched = new LinkedHashSet<>(config.targetModules());
        Map<String, Ia3Linear> wrapped = new LinkedHashMap<>();
        for (Map.Entry<String, HfModule> e : modules.entrySet()) {
            if (!(e.getValue() instanceof HfLinear base)) {
                continue;
            }
            String path = e.getKey();
            String target = config.targetModules().stream().filter(t -> LoraInjector.matches(path, t)).findFirst().orElse(null);
            if (target == null) {
                continue;
            }
            unmatched.remove(target);
            boolean ff = config.feedforwardModules().stream().anyMatch(t -> LoraInjector.matches(path, t));
            Ia3Linear layer = new Ia3Linear(base, ff);
            NDArray ref = base.weight().getArray();
            MethodTensors.assignNew(layer.scale(), manager.ones(new Shape(layer.scaleShape())), ref);
            wrapped.put(path, layer);
        }
        if (!unmatched.isEmpty()) {
            throw new IllegalArgumentException("method.ia3.target_modules: " + unmatched
                    + " match no linear layer of the backbone (linear layers are e.g. query, key, value,"
                    + " attention.output.dense, intermediate.dense, output.dense)");
        }
        // swap after the walk: replacing while iterating the module map would change it under us
        wrapped.forEach((path, layer) -> {
            int dot = path.lastIndexOf('.');
            modules.get(path.substring(0, dot)).replaceModule(path.substring(dot + 1), layer);
        });
        return new Injected(config, wrapped);
    }

    /** IA3 installed on a backbone. */
    public static final class Injected implements InjectedMethod {
        private final Ia3Config config;
        private final Map<String, Ia3Linear> layers;

        Injected(Ia3Config config, Map<String, Ia3Linear> layers) {
            this.config = config;
            this.layers = layers;
        }

        /** Wrapped layers by their path in the backbone. */
        public Map<String, Ia3Linear> layers() {
            return layers;
        }

        @Override
        public MethodConfig config() {
            return config;
        }

        @Override
        public Map<String, Parameter> trainableParameters() {
            Map<String, Parameter> out = new LinkedHashMap<>();
            layers.forEach((path, l) -> out.put(path + ".ia3_l", l.scale()));
            return out;
        }

        @Override
        public ObjectNode adapterConfig() {
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            config.writeAdapterConfig(n);
            return n;
        }

        @Override
        public Map<String, Tensor> stateDict() {
            return MethodTensors.snapshot(trainableParameters());
        }

        @Override
        public void loadStateDict(Map<String, Tensor> tensors, NDManager manager) throws IOException {
            if (layers.values().stream().anyMatch(Ia3Linear::isMerged)) {
                throw new IllegalStateException("unmerge IA3 before loading new scales");
            }
            MethodTensors.load(trainableParameters(), tensors, manager, "IA3");
        }

        @Override
        public boolean supportsMerge() {
            return true;
        }

        @Override
        public void merge() {
            layers.values().forEach(Ia3Linear::merge);
        }

        @Override
        public void unmerge() {
            layers.values().forEach(Ia3Linear::unmerge);
        }
    }
}
