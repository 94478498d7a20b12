package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.contracts.spec.Task;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.Checkpoint;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.engine.training.TrainingResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.TreeSet;

/**
 * One classification fine-tuning job ({@link TrainingJob}) from a job spec and local files — what {@code peft-engine
 * train} and the trainer worker run for task {@code classification}. {@link #prepare} checks every input (spec fields, model directory,
 * data files, labels, sequence length) before any training and fails naming the field;
 * {@link #run} trains and writes {@code out/adapter/}, {@code out/metrics.json} and
 * {@code out/checkpoints/checkpoint-N/}.
 */
public final class ClassificationTrainingJob implements TrainingJob {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final JobSpec spec;
    private final Path modelDir;
    private final MethodConfig method;
    private final TrainingConfig training;
    private final List<Example> trainData;
    private final List<Example> validationData;
    private final LabelMap labels;
    private final Pooling pooling;
    private final Path initAdapter;

    private ClassificationTrainingJob(JobSpec spec, Path modelDir, MethodConfig method, TrainingConfig training,
            List<Example> trainData, List<Example> validationData, LabelMap labels, Pooling pooling, Path initAdapter) {
        this.spec = spec;
        this.modelDir = modelDir;
        this.method = method;
        this.training = training;
        this.trainData = trainData;
        this.validationData = validationData;
        this.labels = labels;
        this.pooling = pooling;
        this.initAdapter = initAdapter;
    }

    /** Validates everything that can be checked before training. */
    public static ClassificationTrainingJob prepare(JobSpec rawSpec, Path modelDir, Path trainingFile, Path validationFile,
            Path initAdapter, Pooling pooling) throws IOException {
        JobSpec spec = JobSpecs.requireValid(rawSpec);
        if (spec.task() != Task.CLASSIFICATION) {
            throw new JobInputException("task", "'" + spec.task().wire() + "' is not supported by peft-engine yet (classification only)");
        }
        if (!Files.isRegularFile(modelDir.resolve(BertCheckpoint.CONFIG)) || !Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            throw new JobInputException("model", "'" + modelDir + "' is not a Hugging Face model directory with config.json,"
                    + " model.safetensors and tokenizer.json (create one with `peft-engine import NAME --out DIR`)");
        }
        BertConfig backbone;
        try {
            backbone = BertConfig.read(modelDir.resolve(BertCheckpoint.CONFIG));
        } catch (IOException | IllegalArgumentException e) {
            throw new JobInputException("model", e.getMessage());
        }
        Hyperparameters h = spec.hyperparameters();
        if (h.maxSeqLength() > backbone.maxPositionEmbeddings()) {
            throw new JobInputException("hyperparameters.max_seq_length", h.maxSeqLength() + " exceeds the model's "
                    + backbone.maxPositionEmbeddings() + " positions");
        }
        MethodConfig method;
        try {
            method = PeftMethods.fromSpec(spec.method(), BertConfig.MODEL_TYPE);
        } catch (IllegalArgumentException e) {
            throw new JobInputException("method", e.getMessage());
        }
        List<Example> train = readData(trainingFile, "training_file");
        List<Example> valid = validationFile == null ? null : readData(validationFile, "validation_file");
        LabelMap labels;
        try {
            labels = LabelMap.fromObserved(train.stream().map(Example::label).toList());
        } catch (IllegalArgumentException e) {
            throw new JobInputException("training_file", e.getMessage());
        }
        if (valid != null) {
            TreeSet<String> unknown = new TreeSet<>();
            valid.forEach(e -> {
                if (labels.id(e.label()) < 0) {
                    unknown.add(e.label());
                }
            });
            if (!unknown.isEmpty()) {
                throw new JobInputException("validation_file", "labels " + unknown + " do not occur in the training file");
            }
        }
        if (initAdapter != null && !Files.isDirectory(initAdapter)) {
            throw new JobInputException("init_adapter", "'" + initAdapter + "' is not an adapter directory");
        }
        return new ClassificationTrainingJob(spec, modelDir, method, TrainingConfig.of(spec), train, valid, labels,
                pooling == null ? Pooling.MEAN : pooling, initAdapter);
    }

    private static List<Example> readData(Path file, String field) {
        try {
            return ClassificationData.read(file, true);
        } catch (IOException e) {
            throw new JobInputException(field, e.getMessage());
        }
    }

    @Override
    public JobSpec spec() {
        return spec;
    }

    @Override
    public TrainingConfig trainingConfig() {
        return training;
    }

    public LabelMap labels() {
        return labels;
    }

    @Override
    public Outcome run(Path out, Path resume, TrainingListener listener, Device device) throws IOException {
        Files.createDirectories(out);
        try (NDManager manager = NDManager.newBaseManager(device);
                TextTokenizer tokenizer = new TextTokenizer(modelDir.resolve("tokenizer.json"), training.maxSeqLength(),
                        BertConfig.read(modelDir.resolve(BertCheckpoint.CONFIG)).padTokenId())) {
            BertModel backbone = BertCheckpoint.load(modelDir, manager, training.frozenMatrixType());
            ClassificationModel model;
            if (initAdapter != null) {
                model = AdapterFiles.load(initAdapter, backbone, manager);
                if (!model.method().config().methodType().equals(method.methodType())) {
                    throw new JobInputException("init_adapter", "holds a " + model.method().config().methodType()
                            + " adapter but method.type is " + method.methodType());
                }
                if (!model.labels().labels().equals(labels.labels())) {
                    throw new JobInputException("init_adapter", "its labels " + model.labels().labels()
                            + " differ from the training file's " + labels.labels());
                }
                model.trainableParameters().values().forEach(p -> p.freeze(false));
            } else {
                model = ClassificationModel.create(backbone, method, labels, pooling, manager, training.seed());
            }
            ClassificationTrainer trainer = new ClassificationTrainer(model, tokenizer, training, manager);
            Checkpoint from = resume == null ? null : Checkpoint.read(resume);
            TrainingResult result = trainer.train(trainData, validationData, out.resolve("checkpoints"), from, listener);

            Path adapterDir = out.resolve("adapter");
            AdapterFiles.save(model, adapterDir, spec.model());
            if (AdapterFiles.isFullModel(adapterDir)) {
                Files.copy(modelDir.resolve("tokenizer.json"), adapterDir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            ObjectNode metrics = JSON.createObjectNode();
            metrics.put("model", spec.model());
            metrics.put("method", method.methodType());
            metrics.put("trainable_parameters", model.trainableParameterCount());
            metrics.put("total_parameters", model.totalParameterCount());
            metrics.put("trainable_percent", 100.0 * model.trainableParameterCount() / model.totalParameterCount());
            metrics.put("steps", result.steps());
            metrics.put("total_steps", result.totalSteps());
            metrics.put("train_seconds", result.trainSeconds());
            metrics.put("seconds_per_step", result.losses().isEmpty() ? 0 : result.trainSeconds() / result.losses().size());
            metrics.put("tokens_per_second", result.tokensPerSecond());
            metrics.put("trained_tokens", result.tokens());
            metrics.put("peak_rss_bytes", ResourceUsage.peakRssBytes());
            metrics.put("adapter_bytes", ResourceUsage.directoryBytes(adapterDir));
            metrics.put("final_train_loss", result.losses().isEmpty() ? Double.NaN : result.losses().get(result.losses().size() - 1));
            metrics.put("stop_reason", result.stopReason());
            metrics.put("precision", training.precision().wire());
            metrics.put("skipped_steps", result.skippedSteps());
            metrics.put("loss_scale", result.lossScale());
            metrics.put("seed", training.seed());
            if (result.lastEval() != null) {
                metrics.set("eval", result.lastEval().toJson());
            } else {
                metrics.putNull("eval");
            }
            JSON.writeValue(out.resolve("metrics.json").toFile(), metrics);
            return new Outcome(adapterDir, metrics, result);
        }
    }
}
