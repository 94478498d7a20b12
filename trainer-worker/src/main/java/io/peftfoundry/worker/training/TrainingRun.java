package io.peftfoundry.worker.training;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.engine.job.TrainingJob;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.engine.training.TrainingResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * One training run of a job on local files (the backbone directory, the datasets, an optional initial adapter and an
 * optional checkpoint to resume from) with peft-engine's job classes — the same ones {@code peft-engine train} runs:
 * {@link TrainingJob#prepare} checks every input before any work (a {@link io.peftfoundry.engine.job.JobInputException}
 * names the spec field) and picks {@code ClassificationTrainingJob} or {@code CausalTrainingJob} by task; the run
 * trains on the worker's device, hands every checkpoint to the listener and, unless stopped by a request, moves the
 * adapter to {@code adapterDir}.
 */
public final class TrainingRun {

    /**
     * What a run produced: the loop's result, sizes, the final metrics as event data (null without validation data),
     * the process's peak RSS during the run and its RSS when the run started (peak − start = what the run added).
     */
    public record Outcome(TrainingResult result, long trainableParameters, long totalParameters, boolean stoppedByRequest,
                          Map<String, Object> evalData, long peakRssBytes, long startRssBytes) {}

    private static final ObjectMapper JSON = ContractsJson.newMapper();

    private final JobSpec spec;
    private final Device device;

    public TrainingRun(JobSpec spec, Device device) {
        this.spec = spec.withDefaults();
        this.device = device;
    }

    /** Trains; the job's scratch directory (checkpoints, adapter) is created beside {@code adapterDir}. */
    public Outcome run(Path modelDir, Path trainingFile, Path validationFile, Path initAdapterDir, Path resumeDir,
                       Path adapterDir, TrainingListener listener) throws IOException {
        PeakMemory.reset();
        long startRss = PeakMemory.currentBytes();
        TrainingJob job = TrainingJob.prepare(spec, modelDir, trainingFile, validationFile, initAdapterDir, Pooling.MEAN);
        // the job writes <out>/adapter and <out>/checkpoints (each checkpoint is reported through the listener)
        Path out = Files.createTempDirectory(adapterDir.getParent(), "run-");
        TrainingJob.Outcome o = job.run(out, resumeDir, listener, device);
        if (!o.stoppedByRequest()) {
            Files.move(o.adapterDir(), adapterDir);
        }
        JsonNode m = o.metrics();
        Map<String, Object> eval = m.hasNonNull("eval") ? JSON.convertValue(m.get("eval"), Map.class) : null;
        return new Outcome(o.training(), m.path("trainable_parameters").asLong(), m.path("total_parameters").asLong(),
                o.stoppedByRequest(), eval, PeakMemory.peakBytes(), startRss);
    }

    /** A causal evaluation as event data (loss, perplexity, token_accuracy, target_tokens). */
    public static Map<String, Object> evalData(CausalEvaluator.Metrics eval) {
        return eval == null ? null : JSON.convertValue(eval.toJson(), Map.class);
    }

    /** A classification evaluation as event data (accuracy, macro_f1, loss, examples …). */
    public static Map<String, Object> evalData(EvalResult eval) {
        return eval == null ? null : JSON.convertValue(eval.toJson(), Map.class);
    }
}
