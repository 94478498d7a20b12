package io.peftfoundry.eval.service;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.client.ArtifactStoreException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.job.CausalEvaluation;
import io.peftfoundry.engine.job.CausalTrainingJob;
import io.peftfoundry.engine.job.Devices;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.eval.client.ArtifactFiles;
import io.peftfoundry.support.messaging.TransientFailure;
import io.peftfoundry.support.messaging.Transients;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Evaluates with peft-engine: downloads the backbone, the adapter and the validation file through artifact-store
 * (digest cache), loads the adapter on a fresh backbone and scores every validation example, on the service's device
 * ({@code foundry.eval.device}, {@code FOUNDRY_DEVICE}, as the trainer worker trains).
 */
public class PeftEngineEvaluator implements AdapterEvaluator {

    private static final Logger LOG = Logger.getLogger(PeftEngineEvaluator.class);

    private final ArtifactFiles artifacts;
    private final ObjectMapper json = new ObjectMapper();
    /**
     * The base model's own score per (model, validation file, task, sequence length) — the causal reference, the same
     * for every adapter of that model on that file, so computed once. Keyed by the digest-cache paths (content
     * addressed); at most {@link #BASE_SCORES} entries, least recently used dropped.
     */
    private final Map<String, ObjectNode> baseScores = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, ObjectNode> eldest) {
                    return size() > BASE_SCORES;
                }
            });
    private static final int BASE_SCORES = 64;

    private final String deviceSetting;

    /** @param deviceSetting {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}, resolved per evaluation as the worker does per job */
    public PeftEngineEvaluator(ArtifactFiles artifacts, String deviceSetting) {
        this.artifacts = artifacts;
        this.deviceSetting = deviceSetting;
    }

    /** The device evaluations run on ({@link Devices#select}: a GPU that DJL does not see fails, naming the setting). */
    Device device() {
        return Devices.select(deviceSetting);
    }

    /**
     * Whether a failure to fetch an input may pass (artifact-store unreachable or answering 5xx/408/429 — e.g. while S3 is
     * away, or unreachable): then it is a {@link TransientFailure} and the evaluation is retried, not failed for good.
     */
    static boolean isTransient(IOException e) {
        if (e instanceof ArtifactStoreException a) {
            return a.status() >= 500 || a.status() == 408 || a.status() == 429;
        }
        return Transients.isTransient(e);
    }

    private ObjectNode baseScore(Path modelDir, Path validation, String task, int maxSeqLength) throws IOException {
        String key = modelDir.toAbsolutePath() + "|" + validation.toAbsolutePath() + "|" + task + "|" + maxSeqLength;
        ObjectNode known = baseScores.get(key);
        if (known != null) {
            return known;
        }
        ObjectNode base = CausalEvaluation.run(modelDir, null, validation, task, maxSeqLength,
                CausalTrainingJob.EXACT_MATCH_LIMIT, device());
        baseScores.put(key, base);
        return base;
    }

    /** The stages of the adapter's {@code lineage.json} (written by peft-engine's causal jobs), or none. */
    private List<Map<String, Object>> lineage(Path adapterDir) {
        Path file = adapterDir.resolve(CausalTrainingJob.LINEAGE);
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            JsonNode stages = json.readTree(file.toFile()).path("stages");
            return stages.isArray() ? json.convertValue(stages, new TypeReference<List<Map<String, Object>>>() {})
                    : List.of();
        } catch (IOException e) {
            LOG.warnf("%s is not readable JSON (%s): the adapter's lineage is ignored", file, e.getMessage());
            return List.of();
        }
    }

    @Override
    public Outcome evaluate(JobInfo job, String adapterId) throws EvaluationFailure, TransientFailure {
        boolean causal = "sft".equals(job.task()) || "continued_pretraining".equals(job.task());
        if (!causal && !"classification".equals(job.task())) {
            throw new EvaluationFailure("task '" + job.task() + "' cannot be evaluated: peft-engine scores"
                    + " classification, sft and continued_pretraining adapters");
        }
        if (job.validationFile() == null) {
            throw new EvaluationFailure("job " + job.jobId() + " has no validation_file: nothing to evaluate on"
                    + " (submit the job with a validation_file)");
        }
        JsonNode adapterMeta;
        try {
            adapterMeta = artifacts.adapterMeta(adapterId);
        } catch (ArtifactStoreException e) {
            if (e.status() == 404) {
                throw new EvaluationFailure("adapter " + adapterId + " of job " + job.jobId()
                        + " is not in artifact-store (deleted, or never uploaded)");
            }
            if (isTransient(e)) {
                throw new TransientFailure("artifact-store answered HTTP " + e.status() + " for adapter " + adapterId, e);
            }
            throw new EvaluationFailure("artifact-store refused adapter " + adapterId + ": HTTP " + e.status(), e);
        } catch (IOException e) {
            if (isTransient(e)) {
                throw new TransientFailure("artifact-store unreachable while fetching adapter " + adapterId + ": "
                        + e.getMessage(), e);
            }
            throw new EvaluationFailure("fetching adapter " + adapterId + " failed: " + e.getMessage(), e);
        }
        Path modelDir;
        Path adapterDir;
        Path validation;
        try {
            modelDir = artifacts.model(job.model(), job.tenant());
            adapterDir = artifacts.adapter(adapterId);
            validation = artifacts.dataset(job.validationFile());
        } catch (IOException e) {
            if (isTransient(e)) {
                throw new TransientFailure("downloading the inputs of job " + job.jobId() + " failed for now: "
                        + e.getMessage(), e);
            }
            throw new EvaluationFailure("downloading the inputs of job " + job.jobId() + " failed: " + e.getMessage(), e);
        }
        long started = System.nanoTime();
        if (causal) {
            try {
                CausalEvaluation.Scored scored = CausalEvaluation.score(modelDir, adapterDir, validation, job.task(),
                        job.maxSeqLength(), CausalTrainingJob.EXACT_MATCH_LIMIT, device());
                ObjectNode r = scored.metrics();
                // the trivial reference of a causal adapter: the base model alone (no adapter) on the same data
                ObjectNode base = baseScore(modelDir, validation, job.task(), job.maxSeqLength());
                ObjectNode ref = r.putObject("reference");
                ref.put("base_model", job.model());
                for (String m : List.of("loss", "perplexity", "token_accuracy", "exact_match")) {
                    if (base.path(m).isNumber()) {
                        ref.put("base_" + m, base.path(m).asDouble());
                    }
                }
                Map<String, Object> metrics = json.convertValue(r, new TypeReference<Map<String, Object>>() {});
                LOG.infof("job %s: adapter %s scored perplexity %.4f (base model %.4f), token accuracy %.4f on %s (%s)"
                                + " in %.1f s", job.jobId(), adapterId, r.path("perplexity").asDouble(),
                        base.path("perplexity").asDouble(), r.path("token_accuracy").asDouble(), job.validationFile(),
                        job.task(), (System.nanoTime() - started) / 1e9);
                return new Outcome(metrics, adapterMeta.path("bytes").asLong(0), null, new CausalOutcomes(scored.nll(),
                        scored.targets(), scored.tokenCorrect(), scored.exactMatch()), lineage(adapterDir));
            } catch (IOException | RuntimeException e) {
                throw new EvaluationFailure("evaluating adapter " + adapterId + " failed: " + e.getMessage(), e);
            }
        }
        List<String> trainingLabels;
        try {
            trainingLabels = ClassificationData.read(artifacts.dataset(job.trainingFile()), true).stream()
                    .map(Example::label).toList();
        } catch (IOException e) {
            throw new EvaluationFailure("reading the training labels of job " + job.jobId() + " (for the trivial"
                    + " reference) failed: " + e.getMessage(), e);
        }
        try (NDManager manager = NDManager.newBaseManager(device());
             TextTokenizer tokenizer = new TextTokenizer(modelDir.resolve("tokenizer.json"), job.maxSeqLength(),
                     BertConfig.read(modelDir.resolve(BertCheckpoint.CONFIG)).padTokenId())) {
            BertModel backbone = AdapterFiles.isFullModel(adapterDir) ? null : BertCheckpoint.load(modelDir, manager);
            ClassificationModel model = AdapterFiles.load(adapterDir, backbone, manager);
            List<Example> data = ClassificationData.read(validation, true);
            TrainingConfig cfg = TrainingConfig.defaults(1e-3, job.seed());
            EvalResult r = new ClassificationTrainer(model, tokenizer, cfg, manager).evaluate(data);
            Map<String, Object> metrics = json.convertValue(r.toJson(), new TypeReference<Map<String, Object>>() {});
            metrics.put("reference", TrivialReference.of(trainingLabels, data.stream().map(Example::label).toList()).toMap());
            LOG.infof("job %s: adapter %s scored accuracy %.4f, macro-F1 %.4f, loss %.4f on %d examples in %.1f s",
                    job.jobId(), adapterId, r.accuracy(), r.macroF1(), r.loss(), r.examples(),
                    (System.nanoTime() - started) / 1e9);
            return new Outcome(metrics, adapterMeta.path("bytes").asLong(0), r.correct());
        } catch (IOException | RuntimeException e) {
            throw new EvaluationFailure("evaluating adapter " + adapterId + " failed: " + e.getMessage(), e);
        }
    }
}
