import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.GradientCheckpointing;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalLmLoss;
import io.peftfoundry.engine.task.causal.TokenSequence;
import io.peftfoundry.engine.training.AdamW;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The engine side of bench/llm-1b: loads the model directory (CausalDecoder.load: sharded safetensors streamed
 * tensor by tensor), injects LoRA r 16 (alpha 32, no dropout) on q/k/v/o_proj, and runs STEPS optimizer steps
 * (AdamW, lr 1e-4) of causal-LM loss on one row of SEQ token ids drawn from seed 0 below 320 — the same ids the
 * Python side draws (numpy-free: both read ids.txt written by the run script).
 * Usage: {@code EngineLlm MODEL_DIR IDS_FILE STEPS RESULT.json [fp32|fp16|bf16] [checkpointing]}. Writes load_seconds,
 * step_seconds[], losses[], peak_heap_bytes (the JVM's heap pools' peak usage, load included), precision,
 * gradient_checkpointing. {@code checkpointing} is what a job with {@code gradient_checkpointing: true} does: every
 * decoder layer runs without keeping its activations and is recomputed in backward ({@link GradientCheckpointing}).
 * fp16 is what a job with
 * {@code precision: "fp16"} does: frozen linear/embedding weights loaded as float16, the loss scaled by 2^16 before
 * backward and the LoRA gradients divided by it before AdamW (a step with a non-finite gradient is not applied).
 * bf16 is what a job with {@code precision: "bf16"} does: frozen linear/embedding weights held as bfloat16 (the
 * checkpoint's bf16 tensors memory-mapped, not read) and multiplied in bfloat16, no loss scaling.
 */
public final class EngineLlm {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long[] ids = Files.readAllLines(Path.of(args[1])).stream().filter(l -> !l.isBlank())
                .mapToLong(Long::parseLong).toArray();
        int steps = Integer.parseInt(args[2]);
        Path result = Path.of(args[3]);
        String precision = args.length > 4 ? args[4] : "fp32";
        boolean half = precision.equals("fp16"); // loss scaling: fp16 only (bf16 has float32's range)
        DataType matrices = switch (precision) {
            case "fp16" -> DataType.FLOAT16;
            case "bf16" -> DataType.BFLOAT16;
            default -> DataType.FLOAT32;
        };
        boolean checkpointing = args.length > 5 && args[5].equals("checkpointing");
        double scale = half ? 65536.0 : 1.0;
        try (NDManager m = NDManager.newBaseManager()) {
            long t0 = System.nanoTime();
            CausalDecoder decoder = CausalDecoder.load(dir, m, matrices);
            double load = (System.nanoTime() - t0) / 1e9;
            long heapAfterLoad = peakHeap();
            System.err.printf(Locale.ROOT, "engine: loaded %s in %.1f s (peak heap %d MiB)%n", dir, load, heapAfterLoad >> 20);
            String launch = System.getenv("BENCH_LAUNCH_NS"); // JVM start, DJL/libtorch init and the load
            if (launch != null) {
                System.err.printf(Locale.ROOT, "engine: model loaded %.2f s after launch%n",
                        (System.currentTimeMillis() * 1_000_000L - Long.parseLong(launch)) / 1e9);
            }
            InjectedMethod method = PeftMethods.byType("lora").inject(decoder,
                    new LoraConfig(16, 32, 0.0, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false), m, 17);
            Map<String, Parameter> params = method.trainableParameters();
            HfModule model = (HfModule) decoder;
            CausalBatch batch = CausalBatch.of(List.of(TokenSequence.allTargets(ids)), 0);
            AdamW adam = new AdamW();
            List<Double> times = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
                long a = System.nanoTime();
                try (NDManager sub = m.newSubManager()) {
                    NDList in = new NDList(CausalBatch.create(sub, batch.ids()), CausalBatch.create(sub, batch.mask()));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        GradientCheckpointing ck = checkpointing ? new GradientCheckpointing(sub) : null;
                        ParameterStore ps = new ParameterStore(sub, false);
                        NDArray logits = (ck != null ? model.forward(ps, in, true, ck.forwardParameters())
                                : model.forward(ps, in, true)).head();
                        NDArray loss = CausalLmLoss.compute(logits, batch.ids(), batch.targets()).mean();
                        losses.add((double) loss.getFloat());
                        NDArray target = half ? Ops.scale(loss, scale) : loss;
                        if (ck != null) {
                            ck.backward(gc, target);
                        } else {
                            gc.backward(target);
                        }
                    }
                }
                boolean finite = true;
                for (Parameter p : params.values()) {
                    try (NDArray g = p.getArray().getGradient()) {
                        if (half) {
                            g.muli(1.0 / scale);
                            finite &= g.isInfinite().logicalOr(g.isNaN()).none().getBoolean();
                        }
                    }
                }
                if (finite) {
                    adam.step(params, 1e-4, 0.0, n -> true);
                } else {
                    System.err.printf(Locale.ROOT, "engine: step %d skipped (non-finite gradient)%n", s + 1);
                }
                for (Parameter p : params.values()) {
                    try (NDArray g = p.getArray().getGradient()) {
                        g.muli(0);
                    }
                }
                times.add((System.nanoTime() - a) / 1e9);
                System.err.printf(Locale.ROOT, "engine: step %d %.1f s loss %.4f%n", s + 1, times.get(s), losses.get(s));
            }
            Files.writeString(result, String.format(Locale.ROOT,
                    "{\"precision\": \"" + precision + "\", \"gradient_checkpointing\": " + checkpointing
                            + ", \"load_seconds\": %.3f, \"step_seconds\": %s, \"losses\": %s, \"peak_heap_bytes\": %d,"
                            + " \"peak_heap_after_load_bytes\": %d, \"trainable\": %d}%n",
                    load, times, losses, peakHeap(), heapAfterLoad,
                    params.values().stream().mapToLong(p -> p.getArray().size()).sum()));
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
