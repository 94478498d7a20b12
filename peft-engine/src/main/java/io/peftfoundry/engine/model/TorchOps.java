package io.peftfoundry.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * PyTorch functions that DJL 0.36's PyTorch JNI does not bind, run from our own TorchScript module
 * ({@code foundry_ops.pt}, written by {@code src/main/torchscript/foundry_ops.py}): casts to and from bfloat16 (DJL's
 * JNI aborts the process on any cast to or creation of a bf16 tensor, though bf16 tensors that exist work in every
 * op without a dtype argument), a bf16 linear, scaled-dot-product attention, memory-mapping a file as bf16, and
 * activations/norms/losses that DJL can only compose from several whole-array ops (tanh-GELU, SiLU, RMSNorm,
 * cross-entropy).
 *
 * <p>Every call runs with autograd as DJL's own ops do (the thread's grad mode; gradients flow through the module's
 * ops), and its result belongs to the first argument's manager. The module is loaded once per JVM.
 * A bf16 array reports {@link DataType#UNKNOWN} in DJL: test for bf16 with {@link #isBf16}.
 */
public final class TorchOps {

    private static final String RESOURCE = "foundry_ops.pt";
    private static final Pattern PLAIN_NAME = Pattern.compile("\\w+");

    /** Whether this thread has turned TorchScript's graph optimisation off (see {@link #run}). */
    private static final ThreadLocal<Boolean> UNOPTIMISED = ThreadLocal.withInitial(() -> false);

    private TorchOps() {}

    /** True for a bfloat16 array (which DJL 0.36 reports as UNKNOWN: it has no other type it cannot name). */
    public static boolean isBf16(NDArray a) {
        return a.getDataType() == DataType.UNKNOWN;
    }

    /** {@code x} as bfloat16 (round to nearest even), differentiable. */
    public static NDArray toBf16(NDArray x) {
        return run("to_bf16", x);
    }

    /** {@code x} as float32, differentiable. */
    public static NDArray toFloat32(NDArray x) {
        return run("to_f32", x);
    }

    /** {@code x W^T} with {@code w} bf16 (out, in), computed in bf16, the result in {@code x}'s type: differentiable. */
    public static NDArray linearBf16(NDArray x, NDArray w) {
        return run("linear_bf16", x, w);
    }

    /**
     * SwiGLU {@code down(silu(gate(x)) · up(x))} with bf16 weights (out, in), computed in bf16 end to end (the (..., I)
     * intermediates are bf16, as transformers holds them on a bf16 model), the result in {@code x}'s type.
     */
    public static NDArray swigluBf16(NDArray x, NDArray gate, NDArray up, NDArray down) {
        return run("swiglu_bf16", x, gate, up, down);
    }

    /**
     * GELU's tanh approximation {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))} as PyTorch's one operator
     * ({@code gelu(approximate="tanh")}) each way, where composing it from NDArray ops runs eight forward and more
     * backward, each over the whole array; differentiable.
     */
    public static NDArray geluTanh(NDArray x) {
        return run("gelu_tanh", x);
    }

    /** {@code silu(gate) · up} (SwiGLU's product) with SiLU as PyTorch's one operator each way; differentiable. */
    public static NDArray siluMul(NDArray gate, NDArray up) {
        return run("silu_mul", gate, up);
    }

    /**
     * transformers' LlamaRMSNorm, written as it is there: {@code w · (x · rsqrt(mean(x², last axis) + eps))} in float32 (float64 input: in float64),
     * the normalised value cast back to x's type before the product; {@code eps} a 0-d array (create it with
     * {@code full}, not from a Java number: autograd keeps it). Differentiable in x and w.
     */
    public static NDArray rmsNorm(NDArray x, NDArray w, NDArray eps) {
        return run("rms_norm", x, w, eps);
    }

    /**
     * The summed cross-entropy of {@code logits} (..., V) against int64 {@code labels} (...), {@link #NO_TARGET} where
     * a position has none: PyTorch's {@code cross_entropy(reduction="sum")} (log-softmax and NLL, each one operator
     * each way). Differentiable in the logits; the labels are kept for backward (pass an array PyTorch owns).
     */
    public static NDArray nllSum(NDArray logits, NDArray labels) {
        return run("nll_sum", logits, labels);
    }

    /** The label {@link #nllSum} skips (PyTorch's default ignore_index). */
    public static final long NO_TARGET = -100;

    /** Rows of a bf16 table {@code w} (num, dim) as float32: int64 ids (...) → (..., dim). */
    public static NDArray embeddingFloat32(NDArray ids, NDArray w) {
        return run("embedding_f32", ids, w);
    }

    /**
     * Causal scaled-dot-product attention (PyTorch's fused kernels): q (B, H, T, D), k and v (B, Hkv, T, D) with H a
     * multiple of Hkv (grouped-query heads shared as {@code repeat_interleave} would) → (B, H, T, D).
     */
    public static NDArray sdpaCausal(NDArray q, NDArray k, NDArray v, double scale) {
        try (NDArray s = q.getManager().create(scale)) {
            return run("sdpa_causal", q, k, v, s);
        }
    }

    /** As {@link #sdpaCausal} with an additive float {@code mask} broadcastable to (B, H, T, S) instead of causality. */
    public static NDArray sdpaMasked(NDArray q, NDArray k, NDArray v, NDArray mask, double scale) {
        try (NDArray s = q.getManager().create(scale)) {
            return run("sdpa_masked", q, k, v, mask, s);
        }
    }

    /**
     * The file as {@code numel} bf16 values (1-D), memory-mapped privately on the CPU: pages are read when first
     * touched and nothing is copied. Views of it ({@link #viewOf}) share the mapping, which lives while any does.
     */
    public static NDArray mapBf16(Path file, long numel, NDManager manager) {
        long[] codes = file.toAbsolutePath().toString().codePoints().asLongStream().toArray();
        try (NDManager scratch = manager.newSubManager(Device.cpu())) {
            NDArray path = scratch.create(codes);
            NDArray n = scratch.create(numel);
            NDArray mapped = run("map_bf16", path, n);
            mapped.attach(manager);
            return mapped;
        }
    }

    /** The elements of 1-D {@code flat} from {@code offset}, viewed as {@code shape}: no copy. */
    public static NDArray viewOf(NDArray flat, long offset, long[] shape) {
        try (NDManager scratch = flat.getManager().newSubManager(Device.cpu())) {
            NDArray view = run("view_of", flat, scratch.create(offset), scratch.create(shape));
            view.attach(flat.getManager());
            return view;
        }
    }

    /** {@code x} on {@code like}'s device (a copy if it is elsewhere), any dtype bf16 included. */
    public static NDArray toDeviceOf(NDArray x, NDArray like) {
        return run("to_device_of", x, like);
    }

    private static NDArray run(String method, NDArray... args) {
        PtSymbolBlock module = Module.INSTANCE;
        if (!UNOPTIMISED.get()) {
            // TorchScript's graph executor would, after profiling a few calls, replace differentiable subgraphs by its
            // own autodiff: silu_mul's backward became a composed sigmoid formula (a sigmoid, products and sums over the
            // whole array) instead of PyTorch's silu_backward. Unoptimised, each op records its native backward as
            // eager PyTorch does. The setting belongs to the calling thread (and TorchOps' is the engine's only
            // TorchScript module): set once per thread.
            JniUtils.setGraphExecutorOptimize(false);
            UNOPTIMISED.set(true);
        }
        // DJL's IValueUtils reads array names as structure ("a.b": a dict entry, "x[]": a list, "module_method:m": the
        // method): an argument whose name is not a plain word goes in unnamed and gets its name back after (plain
        // names such as a parameter's "weight" are left alone, so arrays shared between threads are not touched)
        String[] names = new String[args.length];
        NDList inputs = new NDList(args.length + 1);
        for (int i = 0; i < args.length; i++) {
            String name = args[i].getName();
            if (name != null && !PLAIN_NAME.matcher(name).matches()) {
                names[i] = name;
                args[i].setName(null);
            }
            inputs.add(args[i]);
        }
        // the method is named by the last input's name only (DJL reads nothing else of it): one selector per method,
        // created once, instead of a host-to-native scalar copy per call
        inputs.add(Module.SELECTORS.computeIfAbsent(method, Module::selector));
        try {
            NDList out = IValueUtils.forward(module, inputs, true);
            return out.singletonOrThrow();
        } finally {
            for (int i = 0; i < args.length; i++) {
                if (names[i] != null) {
                    args[i].setName(names[i]);
                }
            }
        }
    }

    /** The loaded module (once per JVM, on first use). It has no parameters: one copy serves every device. */
    private static final class Module {
        /** A manager that lives as long as the JVM: the module and the selectors are shared by every job. */
        static final PtNDManager OWNER = (PtNDManager) NDManager.newBaseManager(Device.cpu(), "PyTorch");
        static final PtSymbolBlock INSTANCE = load(OWNER);
        static final Map<String, NDArray> SELECTORS = new ConcurrentHashMap<>();

        /** The array whose name tells DJL's IValueUtils which method of the module to run (its value is not read). */
        static NDArray selector(String method) {
            NDArray selector = OWNER.create(0f);
            selector.setName("module_method:" + method);
            return selector;
        }

        private static PtSymbolBlock load(PtNDManager owner) {
            try (InputStream in = TorchOps.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is missing from the peft-engine jar");
                }
                return JniUtils.loadModule(owner, in, true, false);
            } catch (IOException e) {
                throw new UncheckedIOException("loading " + RESOURCE, e);
            }
        }
    }
}
