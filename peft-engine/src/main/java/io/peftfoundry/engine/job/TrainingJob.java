package io.peftfoundry.engine.job;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.engine.training.TrainingResult;

import java.io.IOException;
import java.nio.file.Path;

/**
 * One fine-tuning job from a job spec and local files: what {@code peft-engine train} and the trainer worker both run.
 * {@link #prepare} picks the job class by the spec's task ({@link ClassificationTrainingJob},
 * {@link CausalTrainingJob}), which checks every input before any training and fails with a
 * {@link JobInputException} naming the spec field; {@link #run} trains on the given device and writes
 * {@code out/adapter/}, {@code out/metrics.json} and {@code out/checkpoints/checkpoint-N/}.
 */
public interface TrainingJob {

    /** Result of {@link #run}: the adapter directory, metrics.json content and the training result. */
    record Outcome(Path adapterDir, ObjectNode metrics, TrainingResult training) {
        /** True when the run stopped because its listener asked it to (pause, cancel, shutdown). */
        public boolean stoppedByRequest() {
            return "requested".equals(training.stopReason());
        }
    }

    JobSpec spec();

    TrainingConfig trainingConfig();

    /**
     * Trains on {@code device} (every NDManager of the run is created on it); {@code resume} continues from a
     * checkpoint directory written by an earlier run of the same spec (null to start fresh).
     */
    Outcome run(Path out, Path resume, TrainingListener listener, Device device) throws IOException;

    /** Validates the spec (platform-contracts' rules) and the files, and prepares the job class for its task. */
    static TrainingJob prepare(JobSpec rawSpec, Path modelDir, Path trainingFile, Path validationFile, Path initAdapter,
            Pooling pooling) throws IOException {
        JobSpec spec = JobSpecs.requireValid(rawSpec);
        if (CausalTrainingJob.handles(spec.task())) {
            return CausalTrainingJob.prepare(spec, modelDir, trainingFile, validationFile, initAdapter);
        }
        return ClassificationTrainingJob.prepare(spec, modelDir, trainingFile, validationFile, initAdapter, pooling);
    }

    /** Parses the spec JSON strictly and prepares it with its paths taken as local files (relative to {@code baseDir}). */
    static TrainingJob fromSpecJson(String json, Path baseDir, Pooling pooling) throws IOException {
        JobSpec spec = JobSpecs.parse(json); // SpecValidationException names every bad field
        Path valid = spec.validationFile() == null ? null : resolve(baseDir, spec.validationFile());
        Path init = spec.initAdapter() == null ? null : resolve(baseDir, spec.initAdapter());
        return prepare(spec, resolve(baseDir, spec.model()), resolve(baseDir, spec.trainingFile()), valid, init, pooling);
    }

    private static Path resolve(Path base, String p) {
        Path path = Path.of(p);
        return path.isAbsolute() || base == null ? path : base.resolve(path);
    }
}
