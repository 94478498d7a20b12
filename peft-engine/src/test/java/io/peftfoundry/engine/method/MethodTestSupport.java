package io.peftfoundry.engine.method;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.task.classification.SequenceClassifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks every PEFT method must pass, on the tiny random encoder of {@link TestModels}. */
final class MethodTestSupport {

    /**
     * The method config a job spec with this {@code method} object gives on BERT: parsed and validated by
     * platform-contracts ({@code JobSpecs.parse}, a SpecValidationException naming the field), built by the registry.
     */
    static MethodConfig fromSpec(String methodJson) {
        return PeftMethods.fromSpec(JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"t\", \"method\": "
                + methodJson + "}").method(), "bert");
    }

    static final LabelMap LABELS = new LabelMap(List.of("neg", "pos", "neutral"));

    private MethodTestSupport() {}

    /** Adds normal(0, std) noise to every method parameter, so that zero-initialised parts are no longer zero. */
    static void perturb(InjectedMethod method, NDManager m, long seed, double std) {
        Random r = new Random(seed);
        for (Parameter p : method.trainableParameters().values()) {
            NDArray a = p.getArray();
            double[] v = a.toType(DataType.FLOAT64, false).toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += r.nextGaussian() * std;
            }
            HfModule.assign(p, m.create(v, a.getShape()).toType(a.getDataType(), false));
        }
    }

    static NDArray encode(BertModel model, NDManager m, NDList in) {
        return model.forward(new ParameterStore(m, false), in, false).head();
    }

    /**
     * Trains method + head for three plain SGD steps on a 3-class batch: every trainable parameter gets
     * a non-zero gradient, no frozen one gets a gradient at all, and the backbone stays bit-identical.
     * Returns the model's trainable parameter count.
     */
    static long trainStepsTouchOnlyMethodAndHead(MethodConfig config, int expectedMethodTensors, double perturbStd) {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel backbone = TestModels.tiny(m, 1);
            Map<String, Tensor> before = BertCheckpoint.backboneTensors(backbone);
            ClassificationModel model = ClassificationModel.create(backbone, config, LABELS, Pooling.MEAN, m, 3);
            if (perturbStd > 0) {
                perturb(model.method(), m, 11, perturbStd);
            }
            var trainable = model.trainableParameters();
            assertEquals(expectedMethodTensors + 2, trainable.size(), trainable.keySet().toString());
            NDList in = TestModels.inputs(m, 3, 6, 2, 2);
            NDArray labels = m.create(new long[] {0, 1, 2});
            for (int step = 0; step < 3; step++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(SequenceClassifier.crossEntropy(model.logits(in, true), labels));
                }
                for (Map.Entry<String, Parameter> e : model.network().namedParameters().entrySet()) {
                    NDArray a = e.getValue().getArray();
                    if (trainable.containsValue(e.getValue())) {
                        assertTrue(a.hasGradient(), e.getKey());
                        assertTrue(a.getGradient().abs().sum().getFloat() > 0, "zero gradient on " + e.getKey());
                        a.subi(a.getGradient().mul(0.1f));
                        a.getGradient().subi(a.getGradient());
                    } else {
                        assertFalse(a.hasGradient(), "frozen " + e.getKey() + " has a gradient");
                    }
                }
            }
            assertEquals(before, BertCheckpoint.backboneTensors(backbone));
            long head = 3L * TestModels.TINY.hiddenSize() + 3;
            long backboneCount = before.values().stream().mapToLong(Tensor::elementCount).sum();
            assertEquals(backboneCount + model.trainableParameterCount(), model.totalParameterCount());
            return model.trainableParameterCount() - head;
        }
    }

    /**
     * Central finite differences of {@code L = Σ c ⊙ tanh(encoder(x))} on a float64 encoder, against autograd,
     * for {@code samples} entries of every method tensor. Float64 central differences with h = 1e-6 are
     * accurate to ~1e-9 on this O(1) loss, so 1e-6 (+ 1e-5 relative) only fails on a wrong gradient.
     */
    static void gradientMatchesFiniteDifferences(MethodConfig config, int samples) {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = BertCheckpoint.random(TestModels.TINY, m, 1, DataType.FLOAT64);
            InjectedMethod method = PeftMethods.byType(config.methodType()).inject(model, config, m, 3);
            perturb(method, m, 5, 0.3);
            NDList in = TestModels.inputs(m, 2, 5, 1, 2);
            Random rnd = new Random(7);
            double[] cv = new double[2 * 5 * TestModels.TINY.hiddenSize()];
            for (int i = 0; i < cv.length; i++) {
                cv[i] = rnd.nextGaussian();
            }
            NDArray c = m.create(cv, new Shape(2, 5, TestModels.TINY.hiddenSize()));
            var ps = new ParameterStore(m, false);
            Supplier<NDArray> loss = () -> model.forward(ps, in, true).head().tanh().mul(c).sum();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss.get());
            }
            Map<String, double[]> analytic = new LinkedHashMap<>();
            method.trainableParameters().forEach((k, p) -> analytic.put(k, p.getArray().getGradient().toDoubleArray()));
            for (Map.Entry<String, Parameter> e : method.trainableParameters().entrySet()) {
                Parameter p = e.getValue();
                double[] w = p.getArray().toDoubleArray();
                Shape shape = p.getArray().getShape();
                double h = 1e-6;
                for (int s = 0; s < Math.min(samples, w.length); s++) {
                    int i = samples >= w.length ? s : rnd.nextInt(w.length);
                    double[] plus = w.clone();
                    plus[i] += h;
                    HfModule.assign(p, m.create(plus, shape));
                    double lp = loss.get().getDouble();
                    double[] minus = w.clone();
                    minus[i] -= h;
                    HfModule.assign(p, m.create(minus, shape));
                    double lm = loss.get().getDouble();
                    HfModule.assign(p, m.create(w, shape));
                    double numeric = (lp - lm) / (2 * h);
                    double a = analytic.get(e.getKey())[i];
                    assertEquals(numeric, a, 1e-6 + 1e-5 * Math.abs(numeric), e.getKey() + "[" + i + "]");
                }
            }
        }
    }

    /**
     * Saves the method of a trained-looking (perturbed) model through a safetensors file with the keys the
     * adapter writer uses, loads it into a fresh backbone configured from the saved adapter_config.json,
     * and checks both give the same encoder output.
     */
    static Map<String, Tensor> saveLoadGivesIdenticalOutputs(MethodConfig config, Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel a = TestModels.tiny(m, 1);
            InjectedMethod trained = PeftMethods.byType(config.methodType()).inject(a, config, m, 3);
            perturb(trained, m, 13, 0.2);
            NDList in = TestModels.inputs(m, 2, 6, 2, 2);
            NDArray outA = encode(a, m, in);
            assertTrue(TestModels.maxAbsDiff(outA, encode(TestModels.tiny(m, 1), m, in)) > 1e-3,
                    "the perturbed method should change the output");

            Map<String, Tensor> saved = trained.stateDict();
            Map<String, Tensor> onDisk = new LinkedHashMap<>();
            saved.forEach((k, t) -> onDisk.put(trained.keysSavedVerbatim() ? k : "base_model.model." + k, t));
            Path weights = dir.resolve(trained.weightsFileName());
            SafeTensors.write(weights, onDisk);
            Map<String, Tensor> read = new LinkedHashMap<>();
            SafeTensors.read(weights).forEach((k, t) -> read.put(trained.keysSavedVerbatim() ? k : k.substring("base_model.model.".length()), t));
            assertEquals(saved, read);

            MethodConfig reread = PeftMethods.parseAdapterConfig(trained.adapterConfig().deepCopy());
            BertModel b = TestModels.tiny(m, 1);
            InjectedMethod loaded = PeftMethods.byType(reread.methodType()).inject(b, reread, m, 99);
            loaded.loadStateDict(read, m);
            NDArray outB = encode(b, m, in);
            // same values, same operations: the outputs agree to float32 rounding (in practice bit for bit)
            assertTrue(TestModels.maxAbsDiff(outA, outB) <= 1e-6, "diff " + TestModels.maxAbsDiff(outA, outB));
            return onDisk;
        }
    }

    /** Same encoder output for a sequence with and without 3 extra padding positions (masked out). */
    static void paddingIsIgnored(MethodConfig config) {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            InjectedMethod method = PeftMethods.byType(config.methodType()).inject(model, config, m, 3);
            perturb(method, m, 17, 0.5);
            long[] ids = {2, 9, 14, 27, 3};
            NDList plain = new NDList(m.create(ids, new Shape(1, 5)), m.zeros(new Shape(1, 5), DataType.INT64),
                    m.ones(new Shape(1, 5), DataType.INT64));
            long[] padded = {2, 9, 14, 27, 3, 0, 0, 0};
            NDList pad = new NDList(m.create(padded, new Shape(1, 8)), m.zeros(new Shape(1, 8), DataType.INT64),
                    m.create(new long[] {1, 1, 1, 1, 1, 0, 0, 0}, new Shape(1, 8)));
            NDArray a = encode(model, m, plain);
            NDArray b = encode(model, m, pad).get(":, 0:5, :");
            assertEquals(new Shape(1, 5, TestModels.TINY.hiddenSize()), a.getShape());
            // masked keys get exp(-10000) = 0 weight in float32; only summation order differs
            assertTrue(TestModels.maxAbsDiff(a, b) < 1e-5, "padding changed the output by " + TestModels.maxAbsDiff(a, b));
            // and the method is really in play (a mask that dropped the prefix would leave the backbone's output)
            assertTrue(TestModels.maxAbsDiff(a, encode(TestModels.tiny(m, 1), m, plain)) > 1e-3);
        }
    }

    /**
     * Trains method + head with Adam (lr 0.05) for 100 steps of 16 sequences of 4 ids on a toy task: label 1 when the sentence holds one of ids 5–7, label 0 when one of ids 8–10, among random
     * filler ids 11–49. Returns the mean loss of the first 5 and of the last 10 steps.
     */
    static double[] trainToyTask(MethodConfig config) {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), config, new LabelMap(List.of("neg", "pos")),
                    Pooling.MEAN, m, 3);
            Random rnd = new Random(21);
            Map<Parameter, NDArray[]> adam = new HashMap<>();
            List<Double> losses = new ArrayList<>();
            int batch = 16;
            int len = 4;
            for (int step = 1; step <= 100; step++) {
                long[] ids = new long[batch * len];
                long[] labels = new long[batch];
                for (int b = 0; b < batch; b++) {
                    labels[b] = rnd.nextInt(2);
                    for (int t = 0; t < len; t++) {
                        ids[b * len + t] = 11 + rnd.nextInt(TestModels.TINY.vocabSize() - 11);
                    }
                    ids[b * len + rnd.nextInt(len)] = (labels[b] == 1 ? 5 : 8) + rnd.nextInt(3);
                }
                try (NDManager sub = m.newSubManager()) {
                    NDList in = new NDList(sub.create(ids, new Shape(batch, len)), sub.zeros(new Shape(batch, len), DataType.INT64),
                            sub.ones(new Shape(batch, len), DataType.INT64));
                    NDArray loss;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        loss = SequenceClassifier.crossEntropy(model.logits(in, true), sub.create(labels));
                        gc.backward(loss);
                    }
                    losses.add((double) loss.getFloat());
                    for (Parameter p : model.trainableParameters().values()) {
                        NDArray w = p.getArray();
                        NDArray g = w.getGradient();
                        NDArray[] s = adam.computeIfAbsent(p, k -> new NDArray[] {m.zeros(w.getShape(), w.getDataType()),
                                m.zeros(w.getShape(), w.getDataType())});
                        s[0].muli(0.9f).addi(g.mul(0.1f));
                        s[1].muli(0.999f).addi(g.square().mul(0.001f));
                        double c1 = 1 - Math.pow(0.9, step);
                        double c2 = 1 - Math.pow(0.999, step);
                        w.subi(s[0].div(c1).div(s[1].div(c2).sqrt().add(1e-8f)).mul(0.05f));
                        g.subi(g);
                    }
                }
            }
            double first = losses.subList(0, 5).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double last = losses.subList(90, 100).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            return new double[] {first, last};
        }
    }

    static Path tempDir() throws IOException {
        return Files.createTempDirectory("peft-method-test");
    }
}
