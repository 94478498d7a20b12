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
 * A job's estimated peak training memory, in bytes, by part. peft-engine trains in float32, so every value is 4 bytes —
 * except the frozen weights at {@code precision: fp16} or {@code bf16}, held as float16 or bfloat16 (2 bytes; the few
 * norm weights and biases that stay float32 are left out; a bf16 checkpoint's weights are views of its memory-mapped
 * shards, whose pages count in the RSS once touched). With P parameters, T of them trainable, micro-batch B
 * ({@code batch_size}), sequence length S ({@code max_seq_length}, plus the virtual tokens of prompt tuning), and the
 * backbone's L layers, hidden size H, feed-forward width I, A heads and vocabulary V; w = 4 (2 at fp16/bf16):
 * <pre>
 *   weights     = w·P
 *   gradients   = 4·T
 *   optimizer   = 36·T                               AdamW's two moments (8·T) and the update's temporaries (fitted)
 *   activations = 4·B·S·L·n                          n = what one training step keeps per token and layer (fitted):
 *                   encoders (bert …)                n = 22·H + 4·I + 4·A·S
 *                   decoders (gpt2)                  n = 15·H + 6·I + 2·Σin + 10·A·S  (eager attention keeps scores)
 *                   decoders (llama, mistral, qwen2) n = 15·H + 6·I + 2·Σin           (fused attention keeps none)
 *                   Σin = the input features of the layer's LoRA-wrapped modules (H each, I for down_proj; 0
 *                   for other methods): the LoRA branch keeps its input and its dropout's output
 *                 gradient_checkpointing: 4·B·S·(10·L·H + n) instead (what is kept of each layer for the backward
 *                   pass, and one layer's activations at a time)
 *                 at precision bf16 on llama/mistral/qwen2 when the method wraps no feed-forward module (the engine
 *                   runs the SwiGLU block in bfloat16 then): × 17/20, or × 1/2 with gradient_checkpointing
 *               + 4·B·S·V·4   (causal tasks)         the logits, their log-softmax and gradients (fitted)
 *   workspace   = 192 MiB (encoders), 512 MiB (decoders)   tokenizer, dataset, batch building, libtorch, the
 *                                                    engine's TorchScript ops (fitted)
 *   peak        = the sum
 * </pre>
 * <b>Encoders.</b> Counted analytically, autograd keeps per token and layer about 12·H values (the layer input, Q, K,
 * V, the attention context, the attention output and its dropout mask, two LayerNorm inputs and outputs, the
 * feed-forward input and output and its dropout mask), 2·I (the feed-forward's first projection and its GELU output)
 * and 3·A·S (attention scores, softmax probabilities, their dropout), and AdamW 12·T bytes of gradients and moments.
 * The coefficients are fitted to real runs instead (system-tests {@code MemoryEstimateBenchIT}: what a job added to a
 * fresh worker's RSS, {@code peak_rss_bytes − start_rss_bytes}, for LoRA and full fine-tunes of a BERT with
 * MiniLM-L6's shape at 8×128, 32×128 and 16×256 tokens, peft-engine of 2026-12-05 14:09): a token and layer hold
 * 14,000 + 3.1·A·S floats (1.83× the analytic 12·H + 2·I = 7,680 at H 384 / I 1536) and the fixed part is 216 MiB
 * (43 MiB of it weights); a full fine-tune added 292–398 MiB more than LoRA at the same batch, against the 129 MiB of
 * gradients and moments counted — the update's temporaries. Rounded up: residual error +9.0 % to +15.0 % on those
 * five runs, never below (docs/benchmarks.md, "Memory estimate against measured runs").
 * <b>Decoders, bf16/fp16, checkpointing</b> (bench/memory-estimate, 2026-12-05): runs of {@code TrainingJob} measured
 * as the worker measures them (high-water mark reset, peak − start RSS of a fresh JVM) on random-init decoders with
 * published shapes — GPT-2 (fp32 checkpoint), SmolLM2-135M, Qwen2.5-0.5B (6 layers), Llama-3.2-1B (2 layers) stored
 * in bf16 — LoRA (attention and feed-forward targets), full, IA3 and prefix at fp32/fp16/bf16, 1×256 to 1×1024 tokens,
 * with and without checkpointing, plus bench/llm-1b's whole-process 5,316 MiB (Llama-3.2-1B-shaped, bf16, LoRA r 16
 * q/k/v/o, 1×512). The encoders' coefficients were −31 % to +45 % there and +49 % on the 1B run: their 4·A·S term
 * counts scores the engine's fused attention does not keep, bf16 keeps smaller activations, a decoder's fixed part is
 * larger, checkpointing saved less than counted. The coefficients above are the round ones a grid search found to keep
 * every run at least 5 % above its measurement with the smallest largest error: +5.9 % to +24.8 % without
 * checkpointing, +6.9 % to +23.5 % with it, +23.9 % on the 1B run (bench/memory-estimate/results.md: the runs, the
 * table, and the two earlier fits that runs measured afterwards found under). Full fine-tunes err +15 % to +18 %:
 * 40·T counts more than the 32–33 bytes a parameter they added over LoRA. Not measured: GPUs, encoders with
 * checkpointing (the decoder rule is applied: it counts more than the old L·H + n), sequences beyond 1,024 tokens.
 * Sequences are padded to at most
 * {@code max_seq_length}, so S is an upper bound.
 * T for each method: {@code full} → P; LoRA → L·r·Σ(in+out) over its target modules (attention projections H×H,
 * GPT-2's fused {@code c_attn} H×3H, feed-forward ones H×I); bottleneck adapters → L·2·H·H/reduction (twice for
 * Houlsby); prefix → L·2·n·H; prompt → n·H; IA3 → L·(2·H + I).
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
    /** Encoders: activation floats kept per token and layer for each unit of H, of I and of A·S (fitted, see above). */
    static final long PER_HIDDEN = 22;
    static final long PER_INTERMEDIATE = 4;
    static final long PER_SCORE = 4;
    /** Decoders: the same (fitted on bench/memory-estimate, see above); fused attention (llama …) keeps no scores. */
    static final long DECODER_PER_HIDDEN = 15;
    static final long DECODER_PER_INTERMEDIATE = 6;
    static final long DECODER_PER_SCORE = 10;
    /** Decoders: floats per token and layer for each input feature of a LoRA-wrapped module (fitted, see above). */
    static final long DECODER_PER_LORA_INPUT = 2;
    /** Gradient checkpointing: floats of H kept per token and layer, and how many layers' activations at once. */
    static final long CHECKPOINTED_PER_HIDDEN = 10;
    static final long CHECKPOINTED_LAYERS_AT_ONCE = 1;
    /** Copies of the B·S·V logits a causal step holds at its peak (fitted). */
    static final long LOGITS_COPIES = 4;
    /** Optimizer bytes per trainable parameter: AdamW's moments and the update's temporaries (fitted, see above). */
    static final long OPTIMIZER_BYTES_PER_TRAINABLE = 36;
    /** The fixed part of an encoder's run, see above. */
    public static final long WORKSPACE_BYTES = 192L << 20;
    /** A decoder's fixed part, see above. */
    public static final long DECODER_WORKSPACE_BYTES = 512L << 20;
    /** Decoder families: their own activation coefficients; the first three run fused attention in the engine. */
    static final java.util.Set<String> DECODERS = java.util.Set.of("gpt2", "llama", "mistral", "qwen2");
    static final java.util.Set<String> FUSED_ATTENTION = java.util.Set.of("llama", "mistral", "qwen2");

    /** The estimate of {@code spec} (defaults are filled in) on a backbone of {@code shape}. */
    public static MemoryEstimate of(ModelShape shape, JobSpec spec) {
        JobSpec s = spec.withDefaults();
        Hyperparameters h = s.hyperparameters();
        long p = shape.parameters();
        long t = trainable(shape, s.method());
        long b = h.batchSize();
        long seq = h.maxSeqLength() + (s.method().type() == MethodType.PROMPT ? s.method().prompt().numVirtualTokens() : 0);
        long hd = shape.hiddenSize();
        boolean decoder = DECODERS.contains(shape.family());
        boolean fused = FUSED_ATTENTION.contains(shape.family());
        long perTokenAndLayer = decoder
                ? DECODER_PER_HIDDEN * hd + DECODER_PER_INTERMEDIATE * shape.intermediateSize()
                        + (fused ? 0 : DECODER_PER_SCORE * shape.heads() * seq)
                        + DECODER_PER_LORA_INPUT * loraInputs(shape, s.method())
                : PER_HIDDEN * hd + PER_INTERMEDIATE * shape.intermediateSize() + PER_SCORE * shape.heads() * seq;
        long activations = h.gradientCheckpointing()
                // each layer's input and what backward keeps of it, plus the layer recomputed and the one in backward
                ? FLOAT * b * seq * (CHECKPOINTED_PER_HIDDEN * shape.layers() * hd
                        + CHECKPOINTED_LAYERS_AT_ONCE * perTokenAndLayer)
                : FLOAT * b * seq * shape.layers() * perTokenAndLayer;
        if (h.precision() == Precision.BF16 && fused && !wrapsFeedForward(shape.family(), s.method())) {
            // the engine's bf16 SwiGLU block (fitted: 17/20 of the layer term, 1/2 of the checkpointed one)
            activations = h.gradientCheckpointing() ? activations / 2 : activations / 20 * 17;
        }
        boolean causal = s.task() == Task.SFT || s.task() == Task.CONTINUED_PRETRAINING;
        if (causal) {
            activations += FLOAT * b * seq * shape.vocabSize() * LOGITS_COPIES;
        }
        boolean half = h.precision() == Precision.FP16 || h.precision() == Precision.BF16;
        long width = half ? HALF : FLOAT;
        long weights = width * p;
        long workspace = decoder ? DECODER_WORKSPACE_BYTES : WORKSPACE_BYTES;
        long gradients = FLOAT * t;
        long optimizer = OPTIMIZER_BYTES_PER_TRAINABLE * t;
        long peak = weights + gradients + optimizer + activations + workspace;
        return new MemoryEstimate(peak, weights, gradients, optimizer, activations, workspace, t);
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

    /** True when the method wraps a feed-forward module (IA3, adapters, LoRA on one): the block is not all bf16 then. */
    static boolean wrapsFeedForward(String family, MethodSpec method) {
        return switch (method.type()) {
            case IA3, ADAPTER, FULL -> true;
            case LORA -> targets(family, method.lora().targetModules()).stream().anyMatch(MemoryEstimate::feedForward);
            case PREFIX, PROMPT -> false;
        };
    }

    /** Σ over the LoRA-wrapped modules of a layer of their input features (0 for other methods). */
    static long loraInputs(ModelShape shape, MethodSpec method) {
        if (method.type() != MethodType.LORA) {
            return 0;
        }
        long sum = 0;
        for (String target : targets(shape.family(), method.lora().targetModules())) {
            String n = target.toLowerCase(Locale.ROOT);
            if (n.equals("c_proj")) { // GPT-2: attention's (H in) and the MLP's (I in)
                sum += shape.hiddenSize() + shape.intermediateSize();
            } else if (n.contains("down_proj") || n.equals("fc2") || n.equals("output")) {
                sum += shape.intermediateSize();
            } else {
                sum += shape.hiddenSize();
            }
        }
        return sum;
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
        if (feedForward(target)) {
            return hd + i;
        }
        return 2 * hd;
    }

    /** A feed-forward module by its name (BERT's intermediate/output, LLaMA's gate/up/down_proj, GPT-2's c_fc …). */
    private static boolean feedForward(String target) {
        String n = target.toLowerCase(Locale.ROOT);
        return n.contains("intermediate") || n.contains("up_proj") || n.contains("gate_proj") || n.contains("down_proj")
                || n.contains("c_fc") || n.contains("mlp") || n.equals("output") || n.equals("fc1") || n.equals("fc2");
    }

    /** e.g. {@code 1.4 GiB}. */
    public static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
