package io.peftfoundry.engine.method.full;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.peftfoundry.contracts.spec.MethodSpec;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.MethodInjector;
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfModule;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Full fine-tune, the baseline: every backbone weight becomes trainable; nothing is added. */
public class FullFineTune implements MethodInjector<FullFineTune.Config> {

    /** No hyperparameters. */
    public record Config() implements MethodConfig {
        @Override
        public String methodType() {
            return "full";
        }

        @Override
        public String peftType() {
            return "FULL";
        }

        /** {@code method.type: full} has no settings block (SpecValidator refuses one). */
        public static Config fromSpec(MethodSpec method, String modelType) {
            return new Config();
        }
    }

    @Override
    public InjectedMethod inject(Backbone backbone, Config config, NDManager manager, long seed) {
        Map<String, Parameter> params = backbone.namedParameters();
        params.values().forEach(p -> HfModule.setTrainable(p, true));
        return new InjectedMethod() {
            @Override
            public MethodConfig config() {
                return config;
            }

            @Override
            public Map<String, Parameter> trainableParameters() {
                return params;
            }

            @Override
            public ObjectNode adapterConfig() {
                ObjectNode n = JsonNodeFactory.instance.objectNode();
                n.put("peft_type", "FULL");
                return n;
            }

            @Override
            public Map<String, Tensor> stateDict() {
                Map<String, Tensor> out = new LinkedHashMap<>();
                params.forEach((k, p) -> out.put(k, Tensor.of(p.getArray())));
                return out;
            }

            @Override
            public void loadStateDict(Map<String, Tensor> tensors, NDManager m) throws IOException {
                for (Map.Entry<String, Parameter> e : params.entrySet()) {
                    Tensor t = tensors.get(e.getKey());
                    if (t == null) {
                        throw new IOException("fine-tuned model is missing tensor '" + e.getKey() + "'");
                    }
                    long[] expected = e.getValue().getArray().getShape().getShape();
                    if (!Arrays.equals(expected, t.shape())) {
                        throw new IOException("tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                                + " but this backbone needs " + Arrays.toString(expected));
                    }
                    HfModule.assign(e.getValue(), t.toNDArray(m, e.getValue().getArray().getDataType()));
                }
            }
        };
    }
}
