package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.ArrayList;
import java.util.List;

/**
 * Training hyperparameters. Every field may be left out; {@link #withDefaults(MethodType)} fills in:
 *
 * <table>
 * <caption>defaults and allowed ranges</caption>
 * <tr><th>field</th><th>default</th><th>allowed</th></tr>
 * <tr><td>epochs</td><td>3</td><td>1–1000</td></tr>
 * <tr><td>batch_size</td><td>16</td><td>1–4096</td></tr>
 * <tr><td>learning_rate</td><td>by method: full 2e-5, lora 5e-4, adapter 5e-4, ia3 3e-3, prefix 1e-3,
 *     prompt 3e-2</td><td>&gt; 0 and ≤ 1</td></tr>
 * <tr><td>max_seq_length</td><td>128</td><td>2–16384 in tokens, special tokens included (the backbone may allow
 *     less)</td></tr>
 * <tr><td>warmup_ratio</td><td>0.06</td><td>0 ≤ x &lt; 1 (fraction of the total steps)</td></tr>
 * <tr><td>weight_decay</td><td>0.0</td><td>0–1</td></tr>
 * <tr><td>gradient_accumulation_steps</td><td>1</td><td>1–1024</td></tr>
 * <tr><td>max_steps</td><td>null (train for {@code epochs})</td><td>null or 1–10,000,000; stops training
 *     early when reached</td></tr>
 * <tr><td>eval_every_steps</td><td>100</td><td>0–10,000,000; 0 = evaluate at the end of each epoch only</td></tr>
 * <tr><td>checkpoint_every_steps</td><td>200</td><td>0–10,000,000; 0 = checkpoint at the end of each epoch
 *     only</td></tr>
 * <tr><td>scheduler</td><td>linear</td><td>linear, cosine</td></tr>
 * <tr><td>max_grad_norm</td><td>1.0</td><td>0–1000; 0 = no gradient clipping</td></tr>
 * <tr><td>early_stopping_patience</td><td>null (off)</td><td>null or 1–1000 evaluations without improvement of
 *     the validation loss; needs a validation_file</td></tr>
 * <tr><td>precision</td><td>fp32</td><td>fp32, fp16, bf16 (frozen linear/embedding weights held and multiplied
 *     in float16 / bfloat16, see {@link Precision}; not with method full)</td></tr>
 * <tr><td>gradient_checkpointing</td><td>false</td><td>true, false: recompute each decoder layer's activations in
 *     the backward pass instead of keeping them (less memory, one more forward pass of the layers per step); causal
 *     tasks (sft, continued_pretraining) only</td></tr>
 * </table>
 * A step is one optimizer update, i.e. {@code batch_size × gradient_accumulation_steps} examples.
 *
 * <p>{@code epochs}, {@code batch_size} and {@code learning_rate} also take {@code "auto"}, which is what leaving them
 * out means: {@code auto} lists the fields so chosen. {@link #withDefaults(MethodType)} gives them the static
 * defaults above; where the training set's size is known (job-api at submit, the CLI) {@link AutoHyperparameters}
 * replaces them by values chosen from the dataset size and the method, and they stay listed in {@code auto}.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Hyperparameters(Integer epochs, Integer batchSize, Double learningRate, Integer maxSeqLength,
                              Double warmupRatio, Double weightDecay, Integer gradientAccumulationSteps,
                              Integer maxSteps, Integer evalEverySteps, Integer checkpointEverySteps,
                              Scheduler scheduler, Double maxGradNorm, Integer earlyStoppingPatience,
                              Precision precision, Boolean gradientCheckpointing, List<String> auto) {

    /** The fields that accept {@code "auto"}, in the order {@code auto} lists them. */
    public static final List<String> AUTO_FIELDS = List.of("epochs", "batch_size", "learning_rate");

    public static final int DEFAULT_EPOCHS = 3;
    public static final int DEFAULT_BATCH_SIZE = 16;
    public static final int DEFAULT_MAX_SEQ_LENGTH = 128;
    public static final double DEFAULT_WARMUP_RATIO = 0.06;
    public static final double DEFAULT_WEIGHT_DECAY = 0.0;
    public static final int DEFAULT_GRADIENT_ACCUMULATION_STEPS = 1;
    public static final int DEFAULT_EVAL_EVERY_STEPS = 100;
    public static final int DEFAULT_CHECKPOINT_EVERY_STEPS = 200;
    public static final Scheduler DEFAULT_SCHEDULER = Scheduler.LINEAR;
    public static final double DEFAULT_MAX_GRAD_NORM = 1.0;
    public static final Precision DEFAULT_PRECISION = Precision.FP32;
    public static final boolean DEFAULT_GRADIENT_CHECKPOINTING = false;

    /** Nothing set: every field takes its default in {@link #withDefaults(MethodType)}. */
    public static Hyperparameters empty() {
        return new Hyperparameters(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null);
    }

    /**
     * The default learning rate of a method: small for a full fine-tune (every weight moves), larger for methods that
     * train few parameters from scratch (values commonly used with these methods).
     */
    public static double defaultLearningRate(MethodType method) {
        return switch (method) {
            case FULL -> 2e-5;
            case LORA, ADAPTER -> 5e-4;
            case IA3 -> 3e-3;
            // 1e-2 (a common figure for prefix vectors trained directly) collapsed the reparameterised prefix
            // (the 512-wide MLP) to chance on MiniLM-L6 / WordNet; 1e-3 learns (bench/peft-methods/REPORT.md)
            case PREFIX -> 1e-3;
            case PROMPT -> 3e-2;
        };
    }

    /**
     * A copy with every absent (null) field replaced by its default; the learning rate depends on the method. An
     * absent {@code epochs}, {@code batch_size} or {@code learning_rate} is added to {@code auto}.
     */
    public Hyperparameters withDefaults(MethodType method) {
        List<String> chosen = new ArrayList<>();
        for (String f : AUTO_FIELDS) {
            boolean absent = switch (f) {
                case "epochs" -> epochs == null;
                case "batch_size" -> batchSize == null;
                default -> learningRate == null;
            };
            if (absent || (auto != null && auto.contains(f))) {
                chosen.add(f);
            }
        }
        return new Hyperparameters(
                epochs != null ? epochs : DEFAULT_EPOCHS,
                batchSize != null ? batchSize : DEFAULT_BATCH_SIZE,
                learningRate != null ? learningRate : defaultLearningRate(method),
                maxSeqLength != null ? maxSeqLength : DEFAULT_MAX_SEQ_LENGTH,
                warmupRatio != null ? warmupRatio : DEFAULT_WARMUP_RATIO,
                weightDecay != null ? weightDecay : DEFAULT_WEIGHT_DECAY,
                gradientAccumulationSteps != null ? gradientAccumulationSteps : DEFAULT_GRADIENT_ACCUMULATION_STEPS,
                maxSteps,
                evalEverySteps != null ? evalEverySteps : DEFAULT_EVAL_EVERY_STEPS,
                checkpointEverySteps != null ? checkpointEverySteps : DEFAULT_CHECKPOINT_EVERY_STEPS,
                scheduler != null ? scheduler : DEFAULT_SCHEDULER,
                maxGradNorm != null ? maxGradNorm : DEFAULT_MAX_GRAD_NORM,
                earlyStoppingPatience,
                precision != null ? precision : DEFAULT_PRECISION,
                gradientCheckpointing != null ? gradientCheckpointing : DEFAULT_GRADIENT_CHECKPOINTING,
                List.copyOf(chosen));
    }

    /** A copy with the three auto-able values replaced (the {@code auto} list kept). */
    public Hyperparameters withAutoValues(int epochs, int batchSize, double learningRate) {
        return new Hyperparameters(epochs, batchSize, learningRate, maxSeqLength, warmupRatio, weightDecay,
                gradientAccumulationSteps, maxSteps, evalEverySteps, checkpointEverySteps, scheduler, maxGradNorm,
                earlyStoppingPatience, precision, gradientCheckpointing, auto);
    }

    /** Whether {@code field} (one of {@link #AUTO_FIELDS}) is chosen automatically. */
    public boolean isAuto(String field) {
        return auto != null && auto.contains(field);
    }
}
