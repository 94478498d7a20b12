package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.contracts.spec.Task;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.CausalData;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.task.causal.Packing;
import io.peftfoundry.engine.task.causal.SftExamples;
import io.peftfoundry.engine.task.causal.SpecialTokens;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;
import io.peftfoundry.engine.task.causal.TokenSequence;
import io.peftfoundry.engine.training.CausalTrainer;
import io.peftfoundry.engine.training.Checkpoint;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;
import io.peftfoundry.engine.training.TrainingResult;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One causal-LM job ({@link TrainingJob}: {@code sft} or {@code continued_pretraining}) on a decoder (GPT-2 or LLaMA) from a job spec and local
 * files — what {@code peft-engine train} and the trainer worker run for those tasks. {@link #prepare} checks every
 * input (spec fields, model directory, method on this decoder, data files and their format, sequence lengths,
 * init_adapter) and tokenizes the data before any training, failing with the field named; {@link #run} trains and
 * writes {@code out/adapter/} (with {@code lineage.json}), {@code out/metrics.json} and {@code out/checkpoints/}.
 *
 * <p>Pretraining from scratch: a model directory with {@code config.json} and {@code tokenizer.json} but no
 * {@code model.safetensors} is initialised randomly from the spec's seed (normal(0, 0.02), as transformers does) —
 * only with method {@code full}, since a frozen random backbone is useless; {@link #randomInit()} says so.
 *
 * <p>Two stages: {@code init_adapter} (an adapter directory written by an earlier causal job, same method) is loaded
 * and trained on; the new adapter's {@code lineage.json} lists the earlier stages (from the init adapter's own
 * lineage.json) and this one, each with its task, files and their SHA-256 digests.
 */
public final class CausalTrainingJob implements TrainingJob {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String LINEAGE = "lineage.json";
    /** Validation pairs whose greedy completion is compared with the reference (exact match); generation is slow. */
    public static final int EXACT_MATCH_LIMIT = 100;
    /** Files beside the weights that a full fine-tune's output directory copies from the model directory. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", ChatTemplate.TOKENIZER_CONFIG,
            ChatTemplate.SPECIAL_TOKENS_MAP, ChatTemplate.JINJA_FILE, SpecialTokens.GENERATION_CONFIG);

    private final JobSpec spec;
    private final Path modelDir;
    private final DecoderFiles.Info decoderConfig;
    private final boolean randomInit;
    private final MethodConfig method;
    private final TrainingConfig training;
    private final List<TokenSequence> trainData;
    private final List<TokenSequence> validationData;
    private final List<CausalData.SftExample> validationPairs;
    private final ChatTemplate chatTemplate;
    private final SpecialTokens specialTokens;
    private final int rejected;
    private final Path trainingFile;
    private final Path validationFile;
    private final Path initAdapter;

    private CausalTrainingJob(JobSpec spec, Path modelDir, DecoderFiles.Info decoderConfig, boolean randomInit, MethodConfig method,
            TrainingConfig training, List<TokenSequence> trainData, List<TokenSequence> validationData,
            List<CausalData.SftExample> validationPairs, ChatTemplate chatTemplate, SpecialTokens specialTokens, int rejected,
            Path trainingFile, Path validationFile, Path initAdapter) {
        this.spec = spec;
        this.modelDir = modelDir;
        this.decoderConfig = decoderConfig;
        this.randomInit = randomInit;
        this.method = method;
        this.training = training;
        this.trainData = trainData;
        this.validationData = validationData;
        this.validationPairs = validationPairs;
        this.chatTemplate = chatTemplate;
        this.specialTokens = specialTokens;
        this.rejected = rejected;
        this.trainingFile = trainingFile;
        this.validationFile = validationFile;
        this.initAdapter = initAdapter;
    }

    /** True for the tasks this job runs. */
    public static boolean handles(Task task) {
        return task == Task.SFT || task == Task.CONTINUED_PRETRAINING;
    }

    /** Validates and tokenizes everything before training. */
    public static CausalTrainingJob prepare(JobSpec rawSpec, Path modelDir, Path trainingFile, Path validationFile,
            Path initAdapter) throws IOException {
        JobSpec spec = JobSpecs.requireValid(rawSpec);
        if (!handles(spec.task())) {
            throw new JobInputException("task", "'" + spec.task().wire() + "' is not a causal task (sft, continued_pretraining)");
        }
        Path cfgFile = modelDir.resolve(DecoderFiles.CONFIG);
        if (!Files.isRegularFile(cfgFile) || !Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            throw new JobInputException("model", "'" + modelDir + "' is not a decoder model directory with config.json,"
                    + " tokenizer.json and model.safetensors");
        }
        DecoderFiles.Info config;
        try {
            config = DecoderFiles.read(modelDir);
        } catch (IOException | IllegalArgumentException e) {
            throw new JobInputException("model", e.getMessage() + " (tasks sft and continued_pretraining need a decoder)");
        }
        MethodConfig method;
        try {
            method = PeftMethods.fromSpec(spec.method(), config.modelType());
        } catch (IllegalArgumentException e) {
            throw new JobInputException("method", e.getMessage());
        }
        boolean randomInit = !DecoderFiles.hasWeights(modelDir);
        if (randomInit && !(method instanceof FullFineTune.Config)) {
            throw new JobInputException("model", "'" + modelDir + "' has no model.safetensors: a decoder without weights is"
                    + " initialised randomly only for method 'full' (pretraining from scratch), not for '" + method.methodType() + "'");
        }
        checkMethodFits(config, method);
        Hyperparameters h = spec.hyperparameters();
        if (h.maxSeqLength() > config.maxPositions()) {
            throw new JobInputException("hyperparameters.max_seq_length", h.maxSeqLength() + " exceeds the model's "
                    + config.maxPositions() + " positions");
        }
        if (initAdapter != null) {
            checkInitAdapter(initAdapter, method);
        }
        List<TokenSequence> train;
        List<TokenSequence> valid = null;
        List<CausalData.SftExample> validPairs = null;
        ChatTemplate template = null;
        SpecialTokens special;
        int[] rejected = new int[1];
        try (CausalTokenizer tok = new CausalTokenizer(modelDir.resolve("tokenizer.json"))) {
            try {
                special = SpecialTokens.read(modelDir, tok, config.eosId());
            } catch (IOException e) {
                throw new JobInputException("model", e.getMessage());
            }
            long eos = special.sequenceEosId();
            if (spec.task() == Task.SFT) {
                List<CausalData.SftExample> pairs = readSft(trainingFile, "training_file");
                if (validationFile != null) {
                    validPairs = readSft(validationFile, "validation_file");
                }
                if (SftExamples.hasChat(pairs) || validPairs != null && SftExamples.hasChat(validPairs)) {
                    try {
                        template = ChatTemplate.load(modelDir);
                    } catch (IOException e) {
                        throw new JobInputException("model", e.getMessage());
                    }
                }
                train = encodeSft(tok, template, pairs, eos, h.maxSeqLength(), rejected, "training_file", trainingFile);
                if (train.isEmpty()) {
                    throw new JobInputException("training_file", "every example's prompt (or conversation up to its first"
                            + " assistant answer) has " + h.maxSeqLength() + " tokens or more (max_seq_length): nothing left to learn");
                }
                if (validationFile != null) {
                    valid = encodeSft(tok, template, validPairs, eos, h.maxSeqLength(), new int[1], "validation_file", validationFile);
                }
            } else {
                train = Packing.pack(tokenize(tok, readDocuments(trainingFile, "training_file")), eos, h.maxSeqLength());
                if (validationFile != null) {
                    valid = Packing.pack(tokenize(tok, readDocuments(validationFile, "validation_file")), eos, h.maxSeqLength());
                }
            }
        }
        return new CausalTrainingJob(spec, modelDir, config, randomInit, method, TrainingConfig.of(spec), train, valid,
                validPairs, template, special, rejected[0], trainingFile, validationFile, initAdapter);
    }

    /** Installs the method on a tiny decoder of the same layout: a target that matches nothing fails here, not after loading. */
    private static void checkMethodFits(DecoderFiles.Info c, MethodConfig method) {
        // the probe is a few KB: it is built on the CPU whatever the job's device
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            CausalDecoder probe = DecoderFiles.probe(c, m);
            PeftMethods.byType(method.methodType()).inject(probe, method, m, 0);
        } catch (IllegalArgumentException e) {
            throw new JobInputException("method", e.getMessage());
        }
    }

    private static void checkInitAdapter(Path dir, MethodConfig method) {
        if (!Files.isDirectory(dir)) {
            throw new JobInputException("init_adapter", "'" + dir + "' is not an adapter directory");
        }
        if (method instanceof FullFineTune.Config) {
            if (!CausalAdapterFiles.isFullModel(dir)) {
                throw new JobInputException("init_adapter", "method 'full' continues from a fine-tuned decoder directory"
                        + " (config.json + model.safetensors); '" + dir + "' is not one");
            }
            return;
        }
        if (!CausalAdapterFiles.isCausalAdapter(dir)) {
            throw new JobInputException("init_adapter", "'" + dir + "' is not a causal-LM adapter (adapter_config.json with"
                    + " task_type CAUSAL_LM)");
        }
        try {
            MethodConfig saved = PeftMethods.parseAdapterConfig((ObjectNode) JSON.readTree(dir.resolve(AdapterFiles.ADAPTER_CONFIG).toFile()));
            if (!saved.methodType().equals(method.methodType())) {
                throw new JobInputException("init_adapter", "holds a " + saved.methodType() + " adapter but method.type is "
                        + method.methodType());
            }
        } catch (IOException | IllegalArgumentException e) {
            if (e instanceof JobInputException j) {
                throw j;
            }
            throw new JobInputException("init_adapter", e.getMessage());
        }
    }

    private static List<CausalData.SftExample> readSft(Path file, String field) {
        try {
            return CausalData.readSft(file);
        } catch (IOException e) {
            throw new JobInputException(field, e.getMessage() + " (task sft needs JSON Lines of {\"prompt\", \"completion\"}"
                    + " or {\"messages\": [{\"role\", \"content\"}, …]})");
        }
    }

    private static List<String> readDocuments(Path file, String field) {
        try {
            return CausalData.readDocuments(file);
        } catch (IOException e) {
            throw new JobInputException(field, e.getMessage()
                    + " (task continued_pretraining needs plain text or JSON Lines of {\"text\"})");
        }
    }

    private static List<TokenSequence> encodeSft(CausalTokenizer tok, ChatTemplate template, List<CausalData.SftExample> examples,
            long eos, int max, int[] rejected, String field, Path file) {
        try {
            return SftExamples.encode(examples, tok, template, eos, max, rejected);
        } catch (ChatTemplate.ChatTemplateException e) {
            throw new JobInputException(field, file + " " + e.getMessage());
        }
    }

    private static List<long[]> tokenize(CausalTokenizer tok, List<String> docs) {
        List<long[]> out = new ArrayList<>(docs.size());
        docs.forEach(d -> out.add(tok.encode(d)));
        return out;
    }

    @Override
    public JobSpec spec() {
        return spec;
    }

    @Override
    public TrainingConfig trainingConfig() {
        return training;
    }

    /** True when the model directory had no weights and the decoder starts from random values (method full). */
    public boolean randomInit() {
        return randomInit;
    }

    public int trainingSequences() {
        return trainData.size();
    }

    /** SFT pairs left out because the prompt alone fills max_seq_length. */
    public int rejectedExamples() {
        return rejected;
    }

    @Override
    public Outcome run(Path out, Path resume, TrainingListener listener, Device device) throws IOException {
        Files.createDirectories(out);
        try (NDManager manager = NDManager.newBaseManager(device);
                CausalTokenizer tokenizer = new CausalTokenizer(modelDir.resolve("tokenizer.json"))) {
            CausalModel model = loadModel(manager);
            CausalTrainer trainer = new CausalTrainer(model, training, manager);
            Checkpoint from = resume == null ? null : Checkpoint.read(resume);
            CausalTrainer.Result result = trainer.train(trainData, validationData, out.resolve("checkpoints"), from, listener);
            TrainingResult tr = result.training();

            Path adapterDir = out.resolve("adapter");
            CausalAdapterFiles.save(model, adapterDir, spec.model());
            if (CausalAdapterFiles.isFullModel(adapterDir)) {
                // the fine-tuned model keeps the tokenizer, its special tokens, chat template and generation settings
                for (String f : TOKENIZER_FILES) {
                    if (Files.isRegularFile(modelDir.resolve(f))) {
                        Files.copy(modelDir.resolve(f), adapterDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            ArrayNode lineage = lineage(tr.steps());
            ObjectNode lineageJson = JSON.createObjectNode();
            lineageJson.set("stages", lineage);
            JSON.writeValue(adapterDir.resolve(LINEAGE).toFile(), lineageJson);

            ObjectNode metrics = JSON.createObjectNode();
            metrics.put("model", spec.model());
            metrics.put("task", spec.task().wire());
            metrics.put("method", method.methodType());
            metrics.put("backbone_init", randomInit ? "random" : "pretrained");
            metrics.put("trainable_parameters", model.trainableParameterCount());
            metrics.put("total_parameters", model.totalParameterCount());
            metrics.put("trainable_percent", 100.0 * model.trainableParameterCount() / model.totalParameterCount());
            metrics.put("training_sequences", trainData.size());
            metrics.put("rejected_examples", rejected);
            metrics.put("steps", tr.steps());
            metrics.put("total_steps", tr.totalSteps());
            metrics.put("train_seconds", tr.trainSeconds());
            metrics.put("seconds_per_step", tr.losses().isEmpty() ? 0 : tr.trainSeconds() / tr.losses().size());
            metrics.put("tokens_per_second", tr.tokensPerSecond());
            metrics.put("trained_tokens", tr.tokens());
            metrics.put("peak_rss_bytes", ResourceUsage.peakRssBytes());
            metrics.put("adapter_bytes", ResourceUsage.directoryBytes(adapterDir));
            metrics.put("final_train_loss", tr.losses().isEmpty() ? Double.NaN : tr.losses().get(tr.losses().size() - 1));
            metrics.put("stop_reason", tr.stopReason());
            metrics.put("precision", training.precision().wire());
            metrics.put("gradient_checkpointing", training.gradientCheckpointing());
            metrics.put("skipped_steps", tr.skippedSteps());
            metrics.put("loss_scale", tr.lossScale());
            metrics.put("seed", training.seed());
            if (result.lastEval() != null) {
                ObjectNode eval = result.lastEval().toJson();
                if (validationPairs != null && !"requested".equals(tr.stopReason())) {
                    List<CausalData.SftExample> em = validationPairs.subList(0, Math.min(EXACT_MATCH_LIMIT, validationPairs.size()));
                    eval.put("exact_match", exactMatch(model, tokenizer, SftExamples.exactMatchCases(em, chatTemplate),
                            specialTokens, manager));
                    eval.put("exact_match_examples", em.size());
                }
                metrics.set("eval", eval);
            } else {
                metrics.putNull("eval");
            }
            metrics.set("lineage", lineage);
            JSON.writeValue(out.resolve("metrics.json").toFile(), metrics);
            return new Outcome(adapterDir, metrics, tr);
        }
    }

    private CausalModel loadModel(NDManager manager) throws IOException {
        if (method instanceof FullFineTune.Config) {
            CausalDecoder decoder;
            if (initAdapter != null) {
                decoder = DecoderFiles.load(initAdapter, manager);
            } else if (randomInit) {
                decoder = DecoderFiles.random(decoderConfig, manager, training.seed());
            } else {
                decoder = DecoderFiles.load(modelDir, manager);
            }
            return CausalModel.create(decoder, method, manager, training.seed());
        }
        CausalDecoder decoder = DecoderFiles.load(modelDir, manager, training.frozenMatrixType());
        if (initAdapter == null) {
            return CausalModel.create(decoder, method, manager, training.seed());
        }
        CausalModel model = CausalAdapterFiles.load(initAdapter, decoder, manager);
        model.trainableParameters().values().forEach(p -> p.freeze(false));
        return model;
    }

    /**
     * Per case: the greedy completion (up to max(reference tokens) + 1 new tokens) equals the reference, stripped;
     * the cases are decoded together in batches ({@link CausalEvaluator#exactMatchEach}).
     */
    static boolean[] exactMatchEach(CausalModel model, CausalTokenizer tok, List<SftExamples.PromptReference> cases,
            SpecialTokens special, NDManager m) {
        int longest = 1;
        long[][] prompts = new long[cases.size()][];
        for (int i = 0; i < prompts.length; i++) {
            longest = Math.max(longest, tok.encode(cases.get(i).reference()).length + 1);
            prompts[i] = tok.encode(cases.get(i).prompt());
        }
        try (BatchDecoder decoder = BatchDecoder.of(model, tok, special.generationEosIds(), m, null)) {
            return CausalEvaluator.exactMatchEach(decoder, prompts,
                    cases.stream().map(SftExamples.PromptReference::reference).toList(), longest,
                    model.decoder().vocabSize());
        }
    }

    /** The fraction of {@link #exactMatchEach} that match (NaN without cases). */
    static double exactMatch(CausalModel model, CausalTokenizer tok, List<SftExamples.PromptReference> cases,
            SpecialTokens special, NDManager m) {
        if (cases.isEmpty()) {
            return Double.NaN;
        }
        int hits = 0;
        for (boolean h : exactMatchEach(model, tok, cases, special, m)) {
            hits += h ? 1 : 0;
        }
        return (double) hits / cases.size();
    }

    /** Earlier stages (from init_adapter's lineage.json, or one entry for an init adapter without one) + this stage. */
    private ArrayNode lineage(long steps) throws IOException {
        ArrayNode stages = JSON.createArrayNode();
        if (initAdapter != null) {
            Path earlier = initAdapter.resolve(LINEAGE);
            if (Files.isRegularFile(earlier) && JSON.readTree(earlier.toFile()).get("stages") instanceof ArrayNode a) {
                stages.addAll(a);
            } else {
                ObjectNode s = stages.addObject();
                s.put("stage", 1);
                s.put("source", "init_adapter without lineage.json");
                s.put("adapter", initAdapter.getFileName().toString());
            }
        }
        ObjectNode s = stages.addObject();
        s.put("stage", stages.size());
        s.put("task", spec.task().wire());
        s.put("model", spec.model());
        s.put("method", method.methodType());
        s.put("training_file", spec.trainingFile());
        s.put("training_file_sha256", sha256(trainingFile));
        if (validationFile != null) {
            s.put("validation_file", spec.validationFile());
            s.put("validation_file_sha256", sha256(validationFile));
        }
        if (spec.initAdapter() != null) {
            s.put("init_adapter", spec.initAdapter());
        } else {
            s.putNull("init_adapter");
        }
        s.put("backbone_init", randomInit ? "random" : "pretrained");
        s.put("steps", steps);
        s.put("seed", training.seed());
        s.put("max_seq_length", training.maxSeqLength());
        s.put("learning_rate", training.learningRate());
        return stages;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
