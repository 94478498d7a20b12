package io.peftfoundry.jobapi.service;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.resources.DurationEstimate;
import io.peftfoundry.contracts.resources.JobResources;
import io.peftfoundry.contracts.resources.MemoryEstimate;
import io.peftfoundry.contracts.resources.ModelShape;
import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.MethodType;

import java.util.List;
import java.util.Optional;

/**
 * Capacity-aware placement at submit: the job's estimated peak memory ({@link MemoryEstimate}) and model family
 * against the workers that advertised themselves recently ({@link WorkerFleet}). A job that none of them can hold is
 * refused, naming the field to change; a job only some can hold is accepted and waits for one of them (the workers'
 * claim skips what they cannot hold). With no worker heard from, nothing is refused: the fleet is unknown.
 */
public final class Placement {

    /**
     * What the job needs ({@code estimate} null when the model's sizes are unknown) and its estimated training time
     * ({@link DurationEstimate}; null when the sizes or the number of steps are unknown).
     */
    public record Needs(String family, MemoryEstimate estimate, Double estimatedSeconds) {
        public JobResources resources() {
            return new JobResources(family, estimate == null ? null : estimate.peakBytes(), estimatedSeconds);
        }
    }

    private Placement() {
    }

    public static Needs needs(JobSpec spec, String family, Optional<ModelShape> shape) {
        return needs(spec, family, shape, 0);
    }

    /** @param examples the training file's examples (≤ 0: unknown, the duration then needs {@code max_steps}) */
    public static Needs needs(JobSpec spec, String family, Optional<ModelShape> shape, long examples) {
        Double seconds = shape.map(s -> DurationEstimate.seconds(s, spec, examples))
                .filter(java.util.OptionalDouble::isPresent).map(java.util.OptionalDouble::getAsDouble).orElse(null);
        return new Needs(shape.map(ModelShape::family).orElse(family),
                shape.map(s -> MemoryEstimate.of(s, spec)).orElse(null), seconds);
    }

    /** The reasons no live worker can hold the job; empty when one can (or the fleet is unknown). */
    public static List<FieldError> refusals(JobSpec spec, Needs needs, List<WorkerCapabilities> live) {
        if (live.isEmpty()) {
            return List.of();
        }
        List<WorkerCapabilities> loaders = live.stream()
                .filter(w -> needs.family() == null || w.families().contains(needs.family())).toList();
        if (loaders.isEmpty()) {
            return List.of(new FieldError("model", "no trainer worker loads '" + needs.family() + "' models (the "
                    + live.size() + " worker(s) up load " + live.stream().flatMap(w -> w.families().stream())
                    .distinct().sorted().toList() + "); choose a model of those families"));
        }
        if (needs.estimate() == null) {
            return List.of();
        }
        WorkerCapabilities largest = loaders.stream()
                .max(java.util.Comparator.comparingLong(WorkerCapabilities::memoryBytes)).orElseThrow();
        MemoryEstimate e = needs.estimate();
        if (e.peakBytes() <= largest.memoryBytes()) {
            return List.of();
        }
        JobSpec s = spec.withDefaults();
        Hyperparameters h = s.hyperparameters();
        String need = "the job needs an estimated " + MemoryEstimate.human(e.peakBytes()) + " at its peak (weights "
                + MemoryEstimate.human(e.weightsBytes()) + ", gradients " + MemoryEstimate.human(e.gradientsBytes())
                + ", optimizer " + MemoryEstimate.human(e.optimizerBytes()) + ", activations "
                + MemoryEstimate.human(e.activationsBytes()) + " for batch_size " + h.batchSize() + " × max_seq_length "
                + h.maxSeqLength() + ", workspace " + MemoryEstimate.human(e.workspaceBytes())
                + "); the largest trainer worker that loads '" + needs.family() + "' models offers "
                + MemoryEstimate.human(largest.memoryBytes()) + " (" + largest.workerId() + ", " + largest.device() + ")";
        // activations grow with the batch: the largest batch that fits, if any
        long perExample = e.activationsBytes() / h.batchSize();
        long fixed = e.peakBytes() - e.activationsBytes();
        long fits = perExample <= 0 ? 0 : (largest.memoryBytes() - fixed) / perExample;
        if (fits >= 1) {
            return List.of(new FieldError("hyperparameters.batch_size", need + ": batch_size " + fits
                    + " or less fits (or lower max_seq_length)"));
        }
        if (s.method().type() == MethodType.FULL) {
            return List.of(new FieldError("method", need + ", too little even at batch_size 1 for a full fine-tune;"
                    + " a parameter-efficient method (lora) trains a fraction of the parameters"));
        }
        return List.of(new FieldError("model", need + ", too little even at batch_size 1: choose a smaller model"));
    }
}
