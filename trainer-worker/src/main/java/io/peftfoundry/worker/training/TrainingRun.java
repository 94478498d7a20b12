package io.peftfoundry.worker.training;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.Scheduler;
import io.peftfoundry.contracts.spec.Task;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.job.CausalTrainingJob;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.model.BertCheckpoint;
import io.peftfoundry.engine.model.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.Checkpoint;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.engine.training.TrainingResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One training run of a job with peft-engine, on local files: the backbone directory (HF layout), the datasets, an
 * optional initial adapter and an optional checkpoint to resume from. Writes checkpoints under
 * {@code checkpointRoot/checkpoint-<step>} and, unless stopped early by a request, the adapter to {@code adapterDir}.
 */
public final class TrainingRun {

    /** What a run produced: the loop's result, the final evaluation (null without validation data), sizes. */
    public record Outcome(TrainingResult result, EvalResult eval, long trainableParameters, long totalParameters,
                          boolean stoppedByRequest, Map<String, Object> causalEval, long peakRssBytes) {
        public Outcome(TrainingResult result, EvalResult eval, long trainableParameters, long totalParameters,
                       boolean stoppedByRequest) {
            this(result, eval, trainableParameters, totalParameters, stoppedByRequest, null, -1);
        }

        /** The final metrics as event data: classification's or a causal job's (loss, perplexity, token_accuracy …). */
        public Map<String, Object> evalData() {
            return eval != null ? TrainingRun.evalData(eval) : causalEval;
        }
    }

    /** The dataset could not be used (bad line, unknown label): the job fails without retries. */
    public static final class InvalidDatasetException extends IOException {
        public InvalidDatasetException(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON = ContractsJson.newMapper();

    private final JobSpec spec;
    private final Device device;

    public TrainingRun(JobSpec spec, Device device) {
        this.spec = spec.withDefaults();
        this.device = device;
    }

    /** The engine's training settings for the spec's hyperparameters and seed. */
    public static TrainingConfig trainingConfig(JobSpec spec) {
        Hyperparameters h = spec.hyperparameters();
        return new TrainingConfig(h.epochs(), h.batchSize(), h.learningRate(), h.maxSeqLength(), h.warmupRatio(),
                h.weightDecay(), h.gradientAccumulationSteps(), h.maxSteps(), h.evalEverySteps(),
                h.checkpointEverySteps(), h.scheduler() == Scheduler.COSINE, h.maxGradNorm(),
                h.earlyStoppingPatience(), spec.seed());
    }

    public Outcome run(Path modelDir, Path trainingFile, Path validationFile, Path initAdapterDir, Path resumeDir,
                       Path checkpointRoot, Path adapterDir, String baseModelName, TrainingListener listener)
            throws IOException {
        PeakMemory.reset();
        if (CausalTrainingJob.handles(spec.task())) {
            return runCausal(modelDir, trainingFile, validationFile, initAdapterDir, resumeDir, checkpointRoot, adapterDir,
                    listener);
        }
        if (spec.task() != Task.CLASSIFICATION) {
            throw new UnsupportedOperationException("task '" + spec.task().wire() + "' is not trained by this worker");
        }
        List<Example> train = readDataset(trainingFile, "training_file");
        List<Example> valid = validationFile == null ? null : readDataset(validationFile, "validation_file");
        TrainingConfig config = trainingConfig(spec);
        try (NDManager manager = NDManager.newBaseManager(device)) {
            BertModel backbone = BertCheckpoint.load(modelDir, manager);
            ClassificationModel model;
            if (initAdapterDir != null) {
                model = AdapterFiles.load(initAdapterDir, backbone, manager);
            } else {
                JsonNode methodJson = JSON.valueToTree(spec.method());
                MethodConfig method = PeftMethods.parseSpec(methodJson);
                TreeSet<String> labels = new TreeSet<>();
                train.forEach(e -> labels.add(e.label()));
                model = ClassificationModel.create(backbone, method, LabelMap.fromObserved(labels), Pooling.MEAN,
                        manager, spec.seed());
            }
            try (TextTokenizer tokenizer = new TextTokenizer(modelDir.resolve("tokenizer.json"),
                    Math.min(config.maxSeqLength(), backbone.config().maxPositionEmbeddings()),
                    backbone.config().padTokenId())) {
                ClassificationTrainer trainer = new ClassificationTrainer(model, tokenizer, config, manager);
                Checkpoint resume = resumeDir == null ? null : Checkpoint.read(resumeDir);
                TrainingResult result;
                try {
                    result = trainer.train(train, valid, checkpointRoot, resume, listener);
                } catch (IllegalArgumentException e) {
                    // unknown validation labels and similar data problems surface here, named by example
                    throw new InvalidDatasetException(e.getMessage());
                }
                boolean stopped = "requested".equals(result.stopReason());
                EvalResult eval = null;
                if (!stopped) {
                    eval = valid == null ? result.lastEval() : trainer.evaluate(valid);
                    AdapterFiles.save(model, adapterDir, baseModelName);
                    if (AdapterFiles.isFullModel(adapterDir)) {
                        // a full fine-tune is a standalone Hugging Face model directory: it carries its tokenizer
                        Files.copy(modelDir.resolve("tokenizer.json"), adapterDir.resolve("tokenizer.json"),
                                StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                return new Outcome(result, eval, model.trainableParameterCount(), model.totalParameterCount(), stopped,
                        null, PeakMemory.peakBytes());
            }
        }
    }

    /**
     * sft / continued_pretraining with peft-engine's {@link CausalTrainingJob}: it checks and tokenizes the inputs
     * first (a {@link io.peftfoundry.engine.job.JobInputException} names the field), trains and writes the adapter with
     * its lineage.json (the init adapter's stages + this one) into {@code adapterDir}.
     */
    private Outcome runCausal(Path modelDir, Path trainingFile, Path validationFile, Path initAdapterDir, Path resumeDir,
                              Path checkpointRoot, Path adapterDir, TrainingListener listener) throws IOException {
        CausalTrainingJob job;
        try {
            job = CausalTrainingJob.prepare(spec, modelDir, trainingFile, validationFile, initAdapterDir);
        } catch (io.peftfoundry.engine.job.JobInputException e) {
            if (e.field().equals("training_file") || e.field().equals("validation_file")) {
                throw new InvalidDatasetException(e.getMessage());
            }
            throw e;
        }
        // the job writes <out>/adapter and <out>/checkpoints (each checkpoint is reported through the listener)
        Path out = Files.createTempDirectory(adapterDir.getParent(), "causal-");
        CausalTrainingJob.Outcome o = job.run(out, resumeDir, listener);
        boolean stopped = "requested".equals(o.training().stopReason());
        if (!stopped) {
            Files.move(o.adapterDir(), adapterDir);
        }
        JsonNode m = o.metrics();
        Map<String, Object> eval = m.hasNonNull("eval") ? JSON.convertValue(m.get("eval"), Map.class) : null;
        return new Outcome(o.training(), null, m.path("trainable_parameters").asLong(), m.path("total_parameters").asLong(),
                stopped, eval, PeakMemory.peakBytes());
    }

    private static List<Example> readDataset(Path file, String field) throws IOException {
        try {
            return ClassificationData.read(file, true);
        } catch (IOException e) {
            // the engine names the local cache path; the user knows the file by the spec field
            throw new InvalidDatasetException(field + ": " + e.getMessage());
        }
    }

    /** A causal evaluation as event data (loss, perplexity, token_accuracy, target_tokens). */
    public static Map<String, Object> evalData(io.peftfoundry.engine.task.causal.CausalEvaluator.Metrics eval) {
        return eval == null ? null : JSON.convertValue(eval.toJson(), Map.class);
    }

    /** The final metrics as event data (accuracy, macro_f1, loss, examples …). */
    public static Map<String, Object> evalData(EvalResult eval) {
        if (eval == null) {
            return null;
        }
        return JSON.convertValue(eval.toJson(), Map.class);
    }
}
