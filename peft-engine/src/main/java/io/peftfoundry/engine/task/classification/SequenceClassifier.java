package io.peftfoundry.engine.task.classification;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfLinear;
import io.peftfoundry.engine.model.HfModule;

import java.util.Random;

/**
 * Encoder + pooling + {@code classifier} linear head: NDList(ids, types, mask) (B, T) → logits (B, L).
 * Children {@code bert} and {@code classifier}, the names of transformers' BertForSequenceClassification,
 * so adapter keys read {@code base_model.model.bert.encoder…} and the head {@code base_model.model.classifier.weight}.
 */
public class SequenceClassifier extends HfModule {

    public static final String HEAD = "classifier";

    private final BertModel bert;
    private final HfLinear classifier;
    private final Pooling pooling;

    public SequenceClassifier(BertModel bert, int numLabels, Pooling pooling, NDManager manager, long seed) {
        this.bert = module("bert", bert);
        this.classifier = module(HEAD, new HfLinear(bert.config().hiddenSize(), numLabels, true));
        this.pooling = pooling;
        Random rnd = new Random(seed ^ 0x5DEECE66DL);
        int h = bert.config().hiddenSize();
        float[] w = new float[numLabels * h];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        var dtype = HfModule.trainableType(bert.embeddings().wordEmbeddings().weight().getArray());
        var device = bert.embeddings().wordEmbeddings().weight().getArray().getDevice();
        HfModule.assign(classifier.weight(), manager.create(w, new Shape(numLabels, h)).toType(dtype, false).toDevice(device, false));
        HfModule.assign(classifier.bias(), manager.zeros(new Shape(numLabels), dtype, device));
        classifier.weight().freeze(false);
        classifier.bias().freeze(false);
    }

    public BertModel bert() {
        return bert;
    }

    public HfLinear classifier() {
        return classifier;
    }

    public Pooling pooling() {
        return pooling;
    }

    public int numLabels() {
        return classifier.outFeatures();
    }

    /** Head parameters by the name PEFT's modules_to_save gives them (without {@code base_model.model.}). */
    public java.util.Map<String, Parameter> headParameters() {
        java.util.Map<String, Parameter> m = new java.util.LinkedHashMap<>();
        m.put(HEAD + ".weight", classifier.weight());
        m.put(HEAD + ".bias", classifier.bias());
        return m;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = bert.forward(ps, inputs, training).head();
        NDArray pooled;
        if (pooling == Pooling.CLS) {
            pooled = h.get(new NDIndex(":, 0, :"));
        } else {
            NDArray mask = inputs.get(2).toType(h.getDataType(), false).expandDims(2); // (B, T, 1)
            pooled = h.mul(mask).sum(new int[] {1}).div(mask.sum(new int[] {1}).maximum(1e-9f));
        }
        return classifier.forward(ps, new NDList(pooled), training);
    }

    /** Mean cross-entropy of logits (B, L) against int64 labels (B). */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray logp = logits.logSoftmax(-1);
        NDArray picked = logp.mul(labels.oneHot((int) logits.getShape().get(1), logits.getDataType())).sum(new int[] {1});
        return picked.mean().neg();
    }
}
