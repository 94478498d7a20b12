import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.task.classification.SequenceClassifier;
import io.peftfoundry.engine.training.AdamW;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Where the CPU time of one training step goes, LoRA vs full fine-tune, at exactly batch 16 x 128 tokens
 * on the real MiniLM-L6 (bench/peft-methods/profile runs it; not part of the build).
 *
 * <p>Each step is the engine trainer's step, split into phases timed with the process CPU clock
 * (one PyTorch intra-op thread): forward (grad mode on), backward, the update (global-norm clip,
 * AdamW over the trainable parameters, zeroing gradients). It also counts frozen parameters whose
 * array holds a gradient after backward (must be 0: autograd computing weight gradients for frozen
 * weights would be wasted work), and optionally writes a PyTorch profiler trace of one step.
 *
 * <p>Usage: {@code java -cp ENGINE_CLASSPATH StepProfile.java MODEL_DIR STEPS [TRACE_DIR]}
 */
public class StepProfile {

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of(args[0]);
        int steps = Integer.parseInt(args[1]);
        Path traceDir = args.length > 2 ? Path.of(args[2]) : null;
        int batch = 16;
        int len = 128;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            names.add("label" + i);
        }
        LabelMap labels = LabelMap.fromObserved(names);
        Map<String, MethodConfig> methods = new java.util.LinkedHashMap<>();
        methods.put("lora", new LoraConfig(8, 16, 0.05, List.of("query", "value"), false));
        methods.put("lora-nodropout", new LoraConfig(8, 16, 0.0, List.of("query", "value"), false));
        methods.put("full", new FullFineTune.Config());
        System.out.printf("%-15s %5s %8s %8s %8s %8s %s%n", "method", "step", "fwd", "bwd", "update", "total", "frozen-with-grad");
        for (Map.Entry<String, MethodConfig> me : methods.entrySet()) {
            try (NDManager manager = NDManager.newBaseManager()) {
                BertModel backbone = BertCheckpoint.load(modelDir, manager);
                ClassificationModel model = ClassificationModel.create(backbone, me.getValue(), labels, Pooling.MEAN, manager, 42);
                Map<String, Parameter> trainable = model.trainableParameters();
                AdamW adam = new AdamW();
                Random rnd = new Random(7);
                double[] sum = new double[4];
                int counted = 0;
                for (int s = 0; s < steps; s++) {
                    long[][] ids = new long[batch][len];
                    long[][] types = new long[batch][len];
                    long[][] mask = new long[batch][len];
                    long[] y = new long[batch];
                    for (int b = 0; b < batch; b++) {
                        ids[b][0] = 101;
                        for (int t = 1; t < len - 1; t++) {
                            ids[b][t] = 1000 + rnd.nextInt(29000);
                        }
                        ids[b][len - 1] = 102;
                        java.util.Arrays.fill(mask[b], 1);
                        y[b] = rnd.nextInt(10);
                    }
                    boolean trace = traceDir != null && s == steps - 1;
                    if (trace) {
                        JniUtils.startProfile(false, true, false);
                    }
                    long t0 = cpuNanos();
                    long t1;
                    long t2;
                    int frozenWithGrad = 0;
                    try (NDManager sub = manager.newSubManager()) {
                        NDList in = new NDList(sub.create(ids), sub.create(types), sub.create(mask));
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray loss = SequenceClassifier.crossEntropy(model.logits(in, true), sub.create(y));
                            loss.getFloat();
                            t1 = cpuNanos();
                            gc.backward(Ops.scale(loss, 1.0));
                        }
                        t2 = cpuNanos();
                    }
                    for (Map.Entry<String, Parameter> e : backbone.namedParameters().entrySet()) {
                        if (!trainable.containsValue(e.getValue()) && e.getValue().getArray().hasGradient()) {
                            frozenWithGrad++;
                        }
                    }
                    // the trainer's update: global-norm clip to 1.0, AdamW, zero the gradients
                    double sq = 0;
                    for (Parameter p : trainable.values()) {
                        try (NDArray g = p.getArray().getGradient(); NDArray q = g.square(); NDArray sm = q.sum()) {
                            sq += sm.getFloat();
                        }
                    }
                    double norm = Math.sqrt(sq);
                    if (norm > 1.0) {
                        for (Parameter p : trainable.values()) {
                            try (NDArray g = p.getArray().getGradient()) {
                                g.muli(1.0 / (norm + 1e-6));
                            }
                        }
                    }
                    adam.step(trainable, 1e-5, 0.0, n -> true);
                    for (Parameter p : trainable.values()) {
                        try (NDArray g = p.getArray().getGradient()) {
                            g.muli(0);
                        }
                    }
                    long t3 = cpuNanos();
                    if (trace) {
                        JniUtils.stopProfile(traceDir.resolve(me.getKey() + "-trace.json").toString());
                    }
                    double fwd = (t1 - t0) / 1e9;
                    double bwd = (t2 - t1) / 1e9;
                    double upd = (t3 - t2) / 1e9;
                    System.out.printf("%-15s %5d %8.3f %8.3f %8.3f %8.3f %d%n", me.getKey(), s + 1, fwd, bwd, upd, fwd + bwd + upd, frozenWithGrad);
                    if (s > 0) {
                        sum[0] += fwd;
                        sum[1] += bwd;
                        sum[2] += upd;
                        counted++;
                    }
                }
                if (counted > 0) {
                    System.out.printf("%-15s %5s %8.3f %8.3f %8.3f %8.3f (mean CPU s over steps 2..%d)%n", me.getKey(), "mean",
                            sum[0] / counted, sum[1] / counted, sum[2] / counted, (sum[0] + sum[1] + sum[2]) / counted, steps);
                }
            }
        }
    }
}
