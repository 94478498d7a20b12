package io.peftfoundry.engine.method.lora;

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
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Wraps every linear layer whose path matches a target (PEFT's suffix rule) in a {@link LoraLinear}.
 * A is drawn from kaiming-uniform with a = √5 (bound 1/√in, as PyTorch's Linear and PEFT), B = 0,
 * so the wrapped model starts equal to the backbone.
 */
public class LoraInjector implements MethodInjector<LoraConfig> {

    /** True when PEFT would match {@code target} against module path {@code key}. */
    public static boolean matches(String key, String target) {
        return key.equals(target) || key.endsWith("." + target);
    }

    @Override
    public InjectedMethod inject(Backbone backbone, LoraConfig config, NDManager manager, long seed) {
        Map<String, HfModule> modules = backbone.namedModules();
        List<String> targets = new ArrayList<>();
        Set<String> unmatched = new LinkedHashSet<>(config.targetModules());
        for (Map.Entry<String, HfModule> e : modules.entrySet()) {
            if (!(e.getValue() instanceof HfLinear)) {
                continue;
            }
            for (String t : config.targetModules()) {
                if (matches(e.getKey(), t)) {
                    targets.add(e.getKey());
                    unmatched.remove(t);
                    break;
                }
            }
        }
        if (!unmatched.isEmpty()) {
            throw new IllegalArgumentException("method.lora.target_modules: " + unmatched
                    + " match no linear layer of the backbone (linear layers are e.g. query, key, value,"
                    + " attention.output.dense, intermediate.dense, output.dense)");
        }
        Map<String, LoraLinear> wrapped = new LinkedHashMap<>();
        Random rnd = new Random(seed);
        for (String path : targets) {
            int dot = path.lastIndexOf('.');
            HfModule parent = modules.get(path.substring(0, dot));
            HfLinear base = (HfLinear) modules.get(path);
            LoraLinear lora = new LoraLinear(base, config.r(), config.scaling(), config.dropout());
            NDArray ref = base.weight().getArray();
            float bound = (float) (1.0 / Math.sqrt(base.inFeatures()));
            float[] a = new float[config.r() * base.inFeatures()];
            for (int i = 0; i < a.length; i++) {
                a[i] = (rnd.nextFloat() * 2 - 1) * bound;
            }
            assignNew(lora.loraA(), manager.create(a, new Shape(config.r(), base.inFeatures())), ref);
            assignNew(lora.loraB(), manager.zeros(new Shape(base.outFeatures(), config.r())), ref);
            parent.replaceModule(path.substring(dot + 1), lora);
            wrapped.put(path, lora);
        }
        return new Injected(config, wrapped);
    }

    private static void assignNew(Parameter p, NDArray value, NDArray like) {
        p.freeze(false);
        HfModule.assign(p, value.toType(HfModule.trainableType(like), false).toDevice(like.getDevice(), false));
    }

    /** LoRA installed on a backbone. */
    static final class Injected implements InjectedMethod {
        private final LoraConfig config;
        private final Map<String, LoraLinear> layers;

        Injected(LoraConfig config, Map<String, LoraLinear> layers) {
            this.config = config;
            this.layers = layers;
        }

        public Map<String, LoraLinear> layers() {
            return layers;
        }

        @Override
        public MethodConfig config() {
            return config;
        }

        @Override
        public Map<String, Parameter> trainableParameters() {
            Map<String, Parameter> out = new LinkedHashMap<>();
            layers.forEach((path, l) -> {
                out.put(path + ".lora_A.weight", l.loraA());
                out.put(path + ".lora_B.weight", l.loraB());
            });
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
            Map<String, Tensor> out = new LinkedHashMap<>();
            trainableParameters().forEach((k, p) -> out.put(k, Tensor.of(p.getArray())));
            return out;
        }

        @Override
        public void loadStateDict(Map<String, Tensor> tensors, NDManager manager) throws IOException {
            Map<String, Parameter> params = trainableParameters();
            for (String k : tensors.keySet()) {
                if (!params.containsKey(k)) {
                    throw new IOException("adapter tensor '" + k + "' has no matching LoRA layer in this backbone"
                            + " (the adapter was trained for another model or target_modules)");
                }
            }
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                Tensor t = tensors.get(e.getKey());
                if (t == null) {
                    throw new IOException("adapter is missing tensor '" + e.getKey() + "'");
                }
                long[] expected = e.getValue().getArray().getShape().getShape();
                if (!Arrays.equals(expected, t.shape())) {
                    throw new IOException("adapter tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                            + " but this backbone needs " + Arrays.toString(expected)
                            + " (hidden size or rank does not match)");
                }
                NDArray cur = e.getValue().getArray();
                HfModule.assign(e.getValue(), t.toNDArray(manager, cur.getDataType()));
            }
        }

        @Override
        public boolean supportsMerge() {
            return true;
        }

        @Override
        public void merge() {
            layers.values().forEach(LoraLinear::merge);
        }

        @Override
        public void unmerge() {
            layers.values().forEach(LoraLinear::unmerge);
        }
    }
}
