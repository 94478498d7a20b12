package io.peftfoundry.contracts.resources;

import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.MethodType;
import io.peftfoundry.contracts.spec.Task;

import java.util.OptionalDouble;

/**
 * A job's estimated training time on one worker, in seconds: optimizer steps × an estimate per step. The workers claim
 * a tenant's queued jobs of one priority longest first by it (trainer-worker {@code JobQueue}), so long jobs are not
 * left to start last while the other workers run out of work. Only its differences between jobs matter there; it is
 * a ranking key, not a promise.
 * <pre>
 *   steps        = epochs · ⌈⌈n / B⌉ / accumulation⌉, at most max_steps     (n = training examples, as the engine counts)
 *   forward      = 2 · B·accumulation · S · (L·(4·H² + 2·H·I) + 2·L·S·H)   the projections' and attention's FLOPs
 *                  + 2 · B·accumulation · S · H · V   (causal tasks only)   the logits
 *   step seconds = forward · (3 for full, 2 otherwise) / 1e11 + 0.1
 *                  + the layers' part of forward / 1e11 again with gradient_checkpointing (each layer runs twice)
 *   seconds      = steps · step seconds
 * </pre>
 * The backward pass costs about one forward for the activations' gradients, plus one more for the weights' gradients
 * of a full fine-tune (a PEFT method's trainable weights are few). 1e11 FLOP/s is what a LoRA step of MiniLM-L6 reached
 * on the 2 CPU cores this was developed on (16 × 128 tokens in 0.87 s, FACTS.md): the formula gives 0.92 s + 0.1 s
 * there. The 0.1 s a step is the fixed per-step cost that dominates tiny models (the scheduling benchmark's 60-step
 * jobs on a 2-layer, H 32 BERT took 0.1–0.14 s a step, where the FLOPs alone give under a millisecond). On a GPU both
 * figures are far smaller; the order of jobs stays the same, only the seconds are too large.
 * Empty when neither {@code max_steps} nor the number of examples is known.
 */
public final class DurationEstimate {

    /** FLOP/s assumed for one worker (see above). */
    static final double FLOPS_PER_SECOND = 1e11;
    /** Fixed seconds a step (see above). */
    static final double STEP_OVERHEAD_SECONDS = 0.1;

    private DurationEstimate() {
    }

    /**
     * @param spec     a spec with defaults filled in ({@link JobSpec#withDefaults()}), "auto" values resolved
     * @param examples training examples (JSONL lines); ≤ 0 when unknown
     */
    public static OptionalDouble seconds(ModelShape shape, JobSpec spec, long examples) {
        long steps = steps(spec.hyperparameters(), examples);
        if (steps <= 0) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(steps * stepSeconds(shape, spec));
    }

    /** Optimizer steps, as the engine counts them; 0 when unknown. */
    static long steps(Hyperparameters h, long examples) {
        Integer maxSteps = h.maxSteps();
        if (examples <= 0) {
            return maxSteps == null ? 0 : maxSteps;
        }
        long micro = (examples + h.batchSize() - 1) / h.batchSize();
        long accumulation = h.gradientAccumulationSteps();
        long total = h.epochs() * ((micro + accumulation - 1) / accumulation);
        return maxSteps == null ? total : Math.min(total, maxSteps);
    }

    static double stepSeconds(ModelShape shape, JobSpec spec) {
        Hyperparameters h = spec.hyperparameters();
        double tokens = (double) h.batchSize() * h.gradientAccumulationSteps() * h.maxSeqLength();
        double hd = shape.hiddenSize();
        double layersPerToken = shape.layers() * (4 * hd * hd + 2 * hd * shape.intermediateSize()
                + 2.0 * h.maxSeqLength() * hd);
        double perToken = layersPerToken;
        if (spec.task() == Task.SFT || spec.task() == Task.CONTINUED_PRETRAINING) {
            perToken += hd * shape.vocabSize();
        }
        double forward = 2 * tokens * perToken;
        double passes = spec.method().type() == MethodType.FULL ? 3 : 2;
        // gradient checkpointing recomputes every layer's forward in the backward pass (not the logits)
        double recompute = Boolean.TRUE.equals(h.gradientCheckpointing()) ? 2 * tokens * layersPerToken : 0;
        return (forward * passes + recompute) / FLOPS_PER_SECOND + STEP_OVERHEAD_SECONDS;
    }
}
