package io.peftfoundry.engine.task.classification;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.model.bert.BertModel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A backbone with one PEFT method and a classification head: what training, evaluation, saving and
 * prediction work on. Trainable = the method's parameters + the head.
 */
public final class ClassificationModel {

    private final SequenceClassifier network;
    private final InjectedMethod method;
    private final LabelMap labels;
    private final ParameterStore parameterStore;

    private ClassificationModel(SequenceClassifier network, InjectedMethod method, LabelMap labels, NDManager manager) {
        this.network = network;
        this.method = method;
        this.labels = labels;
        this.parameterStore = new ParameterStore(manager, false);
    }

    /** Installs {@code config} on a frozen backbone and adds a fresh head. */
    public static ClassificationModel create(BertModel backbone, MethodConfig config, LabelMap labels, Pooling pooling,
            NDManager manager, long seed) {
        InjectedMethod method = PeftMethods.byType(config.methodType()).inject(backbone, config, manager, seed);
        SequenceClassifier net = new SequenceClassifier(backbone, labels.size(), pooling, manager, seed);
        return new ClassificationModel(net, method, labels, manager);
    }

    public SequenceClassifier network() {
        return network;
    }

    public InjectedMethod method() {
        return method;
    }

    public LabelMap labels() {
        return labels;
    }

    public BertModel backbone() {
        return network.bert();
    }

    /** Trainable parameters with their path in the network ({@code bert.…}, {@code classifier.…}). */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        method.trainableParameters().forEach((k, p) -> out.put("bert." + k, p));
        out.putAll(network.headParameters());
        return out;
    }

    public long trainableParameterCount() {
        return trainableParameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
    }

    /** Every parameter of the network: backbone + method + head (PEFT's "all params"). */
    public long totalParameterCount() {
        return network.namedParameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
    }

    /** logits (B, L) for NDList(ids, types, mask). */
    public NDArray logits(NDList inputs, boolean training) {
        return network.forward(parameterStore, inputs, training).head();
    }
}
