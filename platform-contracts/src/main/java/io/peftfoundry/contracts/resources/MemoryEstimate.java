package io.peftfoundry.contracts.resources;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.contracts.spec.MethodType;
import io.peftfoundry.contracts.spec.Precision;
import io.peftfoundry.contracts.spec.Task;

import java.util.List;
import java.util.Locale;

/**
 * A job's estimated peak training memory, in bytes, by part. peft-engine trains in float32 (bf16 checkpoints are
 * widened when loaded), so every value is 4 bytes — except the frozen weights at {@code precision: fp16} or {@code bf16},
 * held as float16 or bfloat16 (2 bytes; the few norm weights and biases that stay float32 are left out). With P parameters, T of them
 * trainable, micro-batch B ({@code batch_size}), sequence length S ({@code max_seq_length}, plus the virtual tokens of
 * prompt tuning), and the backbone's L layers, hidden size H, feed-forward width I, A heads and vocabulary V:
 * <pre>
 *   weights     = 4·P   (2·P at precision fp16 or bf16)
 *   gradients   = 4·T
 *   optimizer   = 36·T                                 AdamW's two moments (8·T) and the update's temporaries (fitted)
 *   activations = 4·B·S·L·(22·H + 4·I + 4·A·S)         what one training step holds per layer (fitted, see below)
 *                 (gradient_checkpointing: 4·B·S·(L·H + 22·H + 4·I + 4·A·S), each layer's input kept and one
 *                 layer's activations at a time, rebuilt in backward; not measured yet)
 *               + 4·B·S·V·3   (causal tasks only)       logits, their log-softmax and its gradient
 *   workspace   = 192 MiB                               tokenizer, dataset, batch building, allocator slack (fitted)
 *   peak        = the sum
 * </pre>
 * <b>How the coefficients were set.</b> Counted analytically, autograd keeps per token and layer about 12·H values
 * (the layer input, Q, K, V, the attention context, the attention output and its dropout mask, two LayerNorm inputs
 * and outputs, the feed-forward input and output and its dropout mask), 2·I (the feed-forward's first projection and
 * its GELU output) and 3·A·S (attention scores, softmax probabilities, their dropout), and AdamW 12·T bytes of
 * gradients and moments. The coefficients are fitted to real runs instead (system-tests {@code MemoryEstimateBenchIT}:
 * what a job added to a fresh worker's RSS, {@code peak_rss_bytes − start_rss_bytes}, for LoRA and full fine-tunes of a
 * BERT with MiniLM-L6's shape at 8×128, 32×128 and 16×256 tokens), measured on the engine as it is since it closes
 * intermediates as soon as they are used (peft-engine, 2026-12-05): fitted exactly on the three LoRA runs, a token and
 * layer hold 14,000 + 3.1·A·S floats (1.83× the analytic 12·H + 2·I = 7,680 at H 384 / I 1536; the score term as
 * counted) and the fixed part is 216 MiB (43 MiB of it weights: 173 MiB of workspace); a full fine-tune added 292–398
 * MiB more than LoRA at the same batch, against the 129 MiB of gradients and moments counted — the update's
 * temporaries. Rounded up so the estimate errs high: 22·H + 4·I (14,592), 4·A·S, a 192 MiB workspace, 36·T bytes of
 * optimizer state. <b>Residual error</b> on those five runs: +9.0 % to +15.0 %, the estimate above the measurement
 * every time (docs/benchmarks.md, "Memory estimate against measured runs"; the run-to-run spread of one job was about
 * 3 %). Before the engine closed its intermediates the same jobs added up to 48 % more (the coefficients then were
 * 30·H + 5·I + 7·A·S). Not measured: decoders (the causal logits term is kept at its analytic 3 copies), GPUs, and
 * hidden sizes other than 384 — the split of the fit between H and I assumes both scale alike. Sequences are padded
 * to at most {@code max_seq_length}, so S is an upper bound.
 * T for each method: {@code full} → P; LoRA → L·r·Σ(in+out) over its target modules (attention projections H×H,
 * GPT-2's fused {@code c_attn} H×3H, feed-forward ones H×I); bottleneck adapters → L·2·H·H/reduction (twice for
 * Houlsby); prefix → L·2·n·H; prompt → n·H; IA3 → L·(2·H + I). The workspace is an allowance for what does not
 * scale with the model (tokenizer, dataset, batch building, libtorch's allocator).
 *
 * @param trainableParameters T
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record MemoryEstimate(long peakBytes, long weightsBytes, long gradientsBytes, long optimizerBytes,
                             long activationsBytes, long workspaceBytes, long trainableParameters) {

    /** Bytes per value: the engine trains in float32. */
    static final long FLOAT = 4;
    /** Bytes per frozen weight at {@code precision: fp16} or {@code bf16}. */
    static final long HALF = 2;
    /** Activation floats kept per token and layer for each unit of H, of I and of A·S (fitted, see above). */
    static final long PER_HIDDEN = 22;
    static final long PER_INTERMEDIATE = 4;
    static final long PER_SCORE = 4;
    /** Optimizer bytes per trainable parameter: AdamW's moments and the update's temporaries (fitted, see above). */
    static final long OPTIMIZER_BYTES_PER_TRAINABLE = 36;
    /** The fixed part, see above. */
    public static final long WORKSPACE_BYTES = 192L << 20;

    /** The estimate of {@code spec} (defaults are filled in) on a backbone of {@code shape}. */
    public static MemoryEstimate of(ModelShape shape, JobSpec spec) {
        JobSpec s = spec.withDefaults();
        Hyperparameters h = s.hyperparameters();
        long p = shape.parameters();
        long t = trainable(shape, s.method());
        long b = h.batchSize();
        long seq = h.maxSeqLength() + (s.method().type() == MethodType.PROMPT ? s.method().prompt().numVirtualTokens() : 0);
        long hd = shape.hiddenSize();
        long perTokenAndLayer = PER_HIDDEN * hd + PER_INTERMEDIATE * shape.intermediateSize()
                + PER_SCORE * shape.heads() * seq;
        long activations = h.gradientCheckpointing()
                // the layers' inputs, plus the one layer being recomputed in the backward pass
                ? FLOAT * b * seq * (shape.layers() * hd + perTokenAndLayer)
                : FLOAT * b * seq * shape.layers() * perTokenAndLayer;
        boolean causal = s.task() == Task.SFT || s.task() == Task.CONTINUED_PRETRAINING;
        if (causal) {
            activations += FLOAT * b * seq * shape.vocabSize() * 3;
        }
        boolean half = h.precision() == Precision.FP16 || h.precision() == Precision.BF16;
        long weights = (half ? HALF : FLOAT) * p;
        long gradients = FLOAT * t;
        long optimizer = OPTIMIZER_BYTES_PER_TRAINABLE * t;
        long peak = weights + gradients + optimizer + activations + WORKSPACE_BYTES;
        return new MemoryEstimate(peak, weights, gradients, optimizer, activations, WORKSPACE_BYTES, t);
    }

    /** T: the parameters the method trains (the task head is left out: at most H·labels). */
    static long trainable(ModelShape shape, MethodSpec method) {
        long hd = shape.hiddenSize();
        long l = shape.layers();
        long i = shape.intermediateSize();
        return switch (method.type()) {
            case FULL -> shape.parameters();
            case LORA -> {
                long perLayer = 0;
                for (String target : targets(shape.family(), method.lora().targetModules())) {
                    perLayer += (long) method.lora().r() * inPlusOut(target, hd, i);
                }
                yield l * perLayer;
            }
            case ADAPTER -> {
                long bottleneck = Math.max(1, hd / method.adapter().reductionFactor());
                long one = 2 * hd * bottleneck + hd + bottleneck;
                yield l * one * (method.adapter().variant().wire().equals("houlsby") ? 2 : 1);
            }
            case PREFIX -> l * 2 * method.prefix().numVirtualTokens() * hd;
            case PROMPT -> method.prompt().numVirtualTokens() * hd;
            case IA3 -> l * (2 * hd + i);
        };
    }

    /** The spec's default targets name BERT's modules; other families mean their own query/value (as the engine does). */
    private static List<String> targets(String family, List<String> specTargets) {
        if (specTargets.equals(List.of("query", "value"))) {
            return switch (family) {
                case "gpt2" -> List.of("c_attn");
                case "llama", "mistral", "qwen2" -> List.of("q_proj", "v_proj");
                default -> specTargets;
            };
        }
        return specTargets;
    }

    /** in + out features of a target module by its name: feed-forward ones are H×I, GPT-2's c_attn H×3H, others H×H. */
    private static long inPlusOut(String target, long hd, long i) {
        String n = target.toLowerCase(Locale.ROOT);
        if (n.equals("c_attn")) {
            return hd + 3 * hd;
        }
        if (n.contains("intermediate") || n.contains("up_proj") || n.contains("gate_proj") || n.contains("down_proj")
                || n.contains("c_fc") || n.contains("mlp") || n.equals("output") || n.equals("fc1") || n.equals("fc2")) {
            return hd + i;
        }
        return 2 * hd;
    }

    /** e.g. {@code 1.4 GiB}. */
    public static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
