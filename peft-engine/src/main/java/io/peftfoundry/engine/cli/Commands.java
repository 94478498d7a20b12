package io.peftfoundry.engine.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.spec.SpecValidationException;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.importer.EncoderImporter;
import io.peftfoundry.engine.importer.PretrainedEncoder;
import io.peftfoundry.engine.job.CausalTrainingJob;
import io.peftfoundry.engine.job.JobInputException;
import io.peftfoundry.engine.job.TrainingJob;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** The CLI commands; argument and spec problems are UsageExceptions (exit 2) raised before any work. */
final class Commands {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Commands() {}

    static int importModel(Args a) throws IOException {
        if (a.positional().size() != 1) {
            throw new Main.UsageException("import needs one model name (all-minilm-l6-v2, bge-small-en-v1.5, e5-small-v2)");
        }
        PretrainedEncoder enc;
        try {
            enc = PretrainedEncoder.byName(a.positional().get(0));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        Path out = a.path("out");
        ProgressBar bar = new ProgressBar(System.err);
        BertConfig cfg = EncoderImporter.importTo(enc, out, (phase, done, total) ->
                bar.update(done, total, phase + (total > 1 ? String.format(" %.0f/%.0f MB", done / 1e6, total / 1e6) : "")));
        System.err.println();
        System.out.println("imported " + enc.id + " (" + cfg.numHiddenLayers() + " layers, hidden " + cfg.hiddenSize()
                + ", licence " + enc.license + ") into " + out);
        return 0;
    }

    /** Trains per a job spec with the same job classes the trainer worker runs ({@link TrainingJob#prepare}). */
    static int train(Args a) throws IOException {
        Path specFile = a.path("spec");
        Path out = a.path("out");
        Pooling pooling = pooling(a);
        if (!Files.isRegularFile(specFile)) {
            throw new Main.UsageException("--spec " + specFile + ": no such file");
        }
        String specJson = Files.readString(specFile);
        Path resume = a.opt("resume").map(Path::of).orElse(null);
        Device device = a.device();
        TrainingJob job;
        try {
            // "auto" hyperparameters chosen from the local training file's size, as job-api does at submit
            specJson = io.peftfoundry.contracts.spec.JobSpecs.toJson(
                    autoHyperparameters(io.peftfoundry.contracts.spec.JobSpecs.parse(specJson)));
            // relative paths in the spec are relative to the current directory, like the other arguments
            job = TrainingJob.fromSpecJson(specJson, null, pooling);
        } catch (SpecValidationException | JobInputException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (job instanceof CausalTrainingJob causal) {
            if (causal.randomInit()) {
                System.err.println("note: " + job.spec().model() + " has no model.safetensors: the decoder is initialised"
                        + " randomly from seed " + job.spec().seed() + " (method full, pretraining from scratch)");
            }
            if (causal.rejectedExamples() > 0) {
                System.err.println("note: " + causal.rejectedExamples() + " training pairs left out: their prompt alone"
                        + " has max_seq_length tokens or more");
            }
        }
        ProgressBar bar = new ProgressBar(System.err);
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStep(long step, long total, int epoch, double loss, double lr, double tps, double eta) {
                bar.update(step, total, String.format("step %d/%d epoch %d loss %.4f lr %.2e %.0f tok/s ETA %s",
                        step, total, epoch + (step < total ? 1 : 0), loss, lr, tps, ProgressBar.duration(eta)));
            }

            @Override
            public void onEval(long step, EvalResult r) {
                System.err.printf("%n[eval @ step %d] loss %.4f accuracy %.4f macro-F1 %.4f%n", step, r.loss(), r.accuracy(),
                        r.macroF1());
            }

            @Override
            public void onCausalEval(long step, CausalEvaluator.Metrics r) {
                System.err.printf("%n[eval @ step %d] loss %.4f perplexity %.3f token accuracy %.4f%n", step, r.loss(),
                        r.perplexity(), r.tokenAccuracy());
            }
        };
        TrainingJob.Outcome outcome = job.run(out, resume, listener, device);
        System.err.println();
        ObjectNode m = outcome.metrics();
        System.out.printf("trained %s (%s%s): %d of %d parameters trainable (%.3f%%), %d steps in %.1f s (%.3f s/step)%n",
                m.get("model").asText(), m.has("task") ? m.get("task").asText() + ", " : "", m.get("method").asText(),
                m.get("trainable_parameters").asLong(), m.get("total_parameters").asLong(),
                m.get("trainable_percent").asDouble(), m.get("steps").asLong(), m.get("train_seconds").asDouble(),
                m.get("seconds_per_step").asDouble());
        if (m.hasNonNull("eval")) {
            JsonNode e = m.get("eval");
            if (e.has("perplexity")) {
                System.out.printf("eval: perplexity %.3f loss %.4f token accuracy %.4f%s%n", e.path("perplexity").asDouble(),
                        e.path("loss").asDouble(), e.path("token_accuracy").asDouble(),
                        e.has("exact_match") ? String.format(" exact match %.4f", e.get("exact_match").asDouble()) : "");
            } else {
                System.out.printf("eval: accuracy %.4f macro-F1 %.4f loss %.4f%n", e.get("accuracy").asDouble(),
                        e.get("macro_f1").asDouble(), e.get("loss").asDouble());
            }
        }
        System.out.println("wrote " + outcome.adapterDir() + " and " + out.resolve("metrics.json"));
        return 0;
    }

    private static Pooling pooling(Args a) {
        try {
            return Pooling.parse(a.opt("pooling").orElse("mean"));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--" + e.getMessage());
        }
    }

    /** Loaded model + tokenizer for eval/predict. */
    private record Loaded(NDManager manager, ClassificationModel model, TextTokenizer tokenizer) implements AutoCloseable {
        @Override
        public void close() {
            tokenizer.close();
            manager.close();
        }
    }

    private static Loaded load(Args a, int maxSeq) throws IOException {
        Path modelDir = a.path("model");
        Path adapter = a.opt("adapter").map(Path::of).orElse(null);
        Path classifierDir = adapter != null ? adapter : modelDir;
        if (!Files.isDirectory(modelDir)) {
            throw new Main.UsageException("--model " + modelDir + ": not a directory");
        }
        if (adapter != null && !Files.isDirectory(adapter)) {
            throw new Main.UsageException("--adapter " + adapter + ": not a directory");
        }
        NDManager manager = NDManager.newBaseManager(a.device());
        try {
            ClassificationModel model;
            if (AdapterFiles.isFullModel(classifierDir)) {
                model = AdapterFiles.load(classifierDir, null, manager);
            } else if (adapter == null) {
                throw new Main.UsageException("--model " + modelDir + " has no classifier head: pass --adapter DIR");
            } else {
                model = AdapterFiles.load(adapter, BertCheckpoint.load(modelDir, manager), manager);
            }
            Path tok = Files.isRegularFile(classifierDir.resolve("tokenizer.json")) ? classifierDir.resolve("tokenizer.json")
                    : modelDir.resolve("tokenizer.json");
            return new Loaded(manager, model, new TextTokenizer(tok, maxSeq, model.backbone().config().padTokenId()));
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static int maxSeq(Args a) {
        try {
            return Integer.parseInt(a.opt("max-seq-length").orElse("128"));
        } catch (NumberFormatException e) {
            throw new Main.UsageException("--max-seq-length must be an integer");
        }
    }

    static int eval(Args a) throws IOException {
        if (CausalCommands.isDecoder(a.path("model"))) {
            return CausalCommands.eval(a);
        }
        Path data = a.path("data");
        List<Example> examples;
        try {
            examples = ClassificationData.read(data, true);
        } catch (IOException e) {
            throw new Main.UsageException("--data " + e.getMessage());
        }
        try (Loaded l = load(a, maxSeq(a))) {
            var trainer = new ClassificationTrainer(l.model(), l.tokenizer(), TrainingConfig.defaults(1e-4, 0), l.manager());
            EvalResult r = trainer.evaluate(examples);
            String json = JSON.writeValueAsString(r.toJson());
            System.out.println(json);
            if (a.opt("out").isPresent()) {
                Files.writeString(Path.of(a.required("out")), json);
            }
        }
        return 0;
    }

    static int predict(Args a) throws IOException {
        if (CausalCommands.isDecoder(a.path("model"))) {
            return CausalCommands.predict(a);
        }
        List<Example> inputs;
        if (a.opt("text").isPresent()) {
            inputs = List.of(new Example(a.required("text"), a.opt("text-pair").orElse(null), null));
        } else if (a.opt("data").isPresent()) {
            try {
                inputs = ClassificationData.read(a.path("data"), false);
            } catch (IOException e) {
                throw new Main.UsageException("--data " + e.getMessage());
            }
        } else {
            throw new Main.UsageException("predict needs --text TEXT or --data FILE");
        }
        ObjectMapper compact = new ObjectMapper();
        try (Loaded l = load(a, maxSeq(a))) {
            var trainer = new ClassificationTrainer(l.model(), l.tokenizer(), TrainingConfig.defaults(1e-4, 0), l.manager());
            float[][] probs = trainer.predict(inputs);
            List<String> labels = l.model().labels().labels();
            for (float[] p : probs) {
                int best = 0;
                for (int i = 1; i < p.length; i++) {
                    if (p[i] > p[best]) {
                        best = i;
                    }
                }
                ObjectNode n = compact.createObjectNode();
                n.put("label", labels.get(best));
                ObjectNode scores = n.putObject("scores");
                for (int i = 0; i < p.length; i++) {
                    scores.put(labels.get(i), p[i]);
                }
                System.out.println(compact.writeValueAsString(n));
            }
        }
        return 0;
    }

    static int merge(Args a) throws IOException {
        if (CausalCommands.isDecoder(a.path("model"))) {
            return CausalCommands.merge(a);
        }
        Path out = a.path("out");
        a.path("adapter");
        try (Loaded l = load(a, 128)) {
            if (!l.model().method().supportsMerge()) {
                throw new Main.UsageException("a " + l.model().method().config().methodType()
                        + " adapter cannot be merged into the backbone (LoRA and IA3 can)");
            }
            l.model().method().merge();
            AdapterFiles.saveFullModel(l.model(), out);
            Files.copy(a.path("model").resolve("tokenizer.json"), out.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            System.out.println("merged " + a.required("adapter") + " into " + a.required("model") + " → " + out
                    + " (config.json, model.safetensors, tokenizer.json, labels.json)");
        }
        return 0;
    }

    /**
     * The spec with its "auto" hyperparameters chosen from the training file's size (non-blank lines: one JSONL
     * example each), as job-api does at submit; a missing file is left for the job to report.
     */
    static io.peftfoundry.contracts.spec.JobSpec autoHyperparameters(io.peftfoundry.contracts.spec.JobSpec spec)
            throws IOException {
        Path file = spec.trainingFile() == null ? null : Path.of(spec.trainingFile());
        if (file == null || !Files.isRegularFile(file)) {
            return spec;
        }
        long examples;
        try (var lines = Files.lines(file)) {
            examples = lines.filter(l -> !l.isBlank()).count();
        }
        return io.peftfoundry.contracts.spec.AutoHyperparameters.resolve(spec, examples);
    }
}
