package io.peftfoundry.engine.adapter;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves and loads a trained classifier.
 *
 * <p>PEFT methods are written exactly as Hugging Face PEFT writes a {@code SEQ_CLS} adapter for a
 * {@code BertForSequenceClassification}: {@code adapter_config.json} and
 * {@code adapter_model.safetensors} with keys {@code base_model.model.bert.<module path>.lora_A.weight}
 * (no adapter name) and the head as PEFT's {@code modules_to_save} leaves it,
 * {@code base_model.model.classifier.weight}/{@code .bias}. Beside them, {@code labels.json} holds
 * {@code id2label}/{@code label2id}, the pooling and the backbone's shape (used to refuse a backbone
 * the adapter was not trained for).
 *
 * <p>A full fine-tune (and a merged LoRA) is a Hugging Face model directory instead:
 * {@code config.json} (BertForSequenceClassification, id2label), {@code model.safetensors} with
 * {@code bert.*} and {@code classifier.*} keys, and {@code labels.json}.
 */
public final class AdapterFiles {

    public static final String ADAPTER_CONFIG = "adapter_config.json";
    public static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";
    public static final String LABELS = "labels.json";
    public static final String PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AdapterFiles() {}

    /** Writes {@code model} to {@code dir} in the layout of its method (see class comment). */
    public static void save(ClassificationModel model, Path dir, String baseModelNameOrPath) throws IOException {
        Files.createDirectories(dir);
        writeLabels(model, dir);
        if (model.method().config() instanceof FullFineTune.Config) {
            saveFullModel(model, dir);
            return;
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("base_model_name_or_path", baseModelNameOrPath);
        cfg.put("task_type", "SEQ_CLS");
        cfg.put("inference_mode", true);
        cfg.putArray("modules_to_save").add("classifier");
        cfg.putNull("revision");
        InjectedMethod method = model.method();
        if (!ADAPTER_WEIGHTS.equals(method.weightsFileName())) {
            cfg.put("model_name", baseModelNameOrPath); // AdapterHub's field for the base model
        }
        cfg.setAll(method.adapterConfig());
        JSON.writeValue(dir.resolve(ADAPTER_CONFIG).toFile(), cfg);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        String prefix = method.keysSavedVerbatim() ? "" : PREFIX + "bert.";
        method.stateDict().forEach((k, t) -> tensors.put(prefix + k, t));
        // the head is saved as PEFT's modules_to_save, whatever the method's own key style
        model.network().headParameters().forEach((k, p) -> tensors.put(PREFIX + k, Tensor.of(p.getArray())));
        SafeTensors.write(dir.resolve(method.weightsFileName()), tensors, Map.of("format", "pt"));
    }

    /** BertForSequenceClassification-style directory: the backbone (merged, if LoRA was merged) plus the head. */
    public static void saveFullModel(ClassificationModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        writeLabels(model, dir);
        ObjectNode cfg = model.backbone().config().toJson();
        cfg.putArray("architectures").add("BertForSequenceClassification");
        cfg.setAll(model.labels().toJson());
        cfg.put("classifier_pooling", model.network().pooling().name().toLowerCase(java.util.Locale.ROOT));
        JSON.writeValue(dir.resolve(BertCheckpoint.CONFIG).toFile(), cfg);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        BertCheckpoint.backboneTensors(model.backbone()).forEach((k, t) -> tensors.put("bert." + k, t));
        model.network().headParameters().forEach((k, p) -> tensors.put(k, Tensor.of(p.getArray())));
        SafeTensors.write(dir.resolve(BertCheckpoint.WEIGHTS), tensors, Map.of("format", "pt"));
    }

    private static void writeLabels(ClassificationModel model, Path dir) throws IOException {
        ObjectNode labels = model.labels().toJson();
        labels.put("pooling", model.network().pooling().name().toLowerCase(java.util.Locale.ROOT));
        BertConfig c = model.backbone().config();
        ObjectNode bb = labels.putObject("backbone");
        bb.put("hidden_size", c.hiddenSize());
        bb.put("num_hidden_layers", c.numHiddenLayers());
        bb.put("intermediate_size", c.intermediateSize());
        bb.put("vocab_size", c.vocabSize());
        JSON.writeValue(dir.resolve(LABELS).toFile(), labels);
    }

    /** True when {@code dir} is a full/merged model directory (no adapter_config.json, has a classifier). */
    public static boolean isFullModel(Path dir) {
        return !Files.exists(dir.resolve(ADAPTER_CONFIG)) && Files.exists(dir.resolve(BertCheckpoint.WEIGHTS))
                && Files.exists(dir.resolve(LABELS));
    }

    /**
     * Loads a saved classifier. For an adapter, {@code backbone} must be the model it was trained on
     * (a mismatch in shape or missing module fails naming it); for a full/merged model directory,
     * pass {@code backbone = null}: the directory holds its own weights.
     */
    public static ClassificationModel load(Path dir, BertModel backbone, NDManager manager) throws IOException {
        JsonNode labelsJson = readJson(dir.resolve(LABELS));
        LabelMap labels = LabelMap.fromJson(labelsJson);
        Pooling pooling = Pooling.parse(labelsJson.path("pooling").asText("mean"));
        if (isFullModel(dir)) {
            BertModel own = BertCheckpoint.load(dir, manager);
            ClassificationModel model = ClassificationModel.create(own, new FullFineTune.Config(), labels, pooling, manager, 0);
            Map<String, Tensor> t = SafeTensors.read(dir.resolve(BertCheckpoint.WEIGHTS));
            loadHead(model, t, "", dir.resolve(BertCheckpoint.WEIGHTS));
            return model;
        }
        if (backbone == null) {
            throw new IllegalArgumentException(dir + " is an adapter: give the backbone it was trained on (--model)");
        }
        checkBackbone(labelsJson.path("backbone"), backbone.config(), dir);
        JsonNode cfgJson = readJson(dir.resolve(ADAPTER_CONFIG));
        if (!cfgJson.isObject()) {
            throw new IOException(dir.resolve(ADAPTER_CONFIG) + ": not a JSON object");
        }
        MethodConfig method = PeftMethods.parseAdapterConfig((ObjectNode) cfgJson);
        ClassificationModel model = ClassificationModel.create(backbone, method, labels, pooling, manager, 0);
        Path weights = dir.resolve(model.method().weightsFileName());
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + weights.getFileName());
        }
        Map<String, Tensor> all = SafeTensors.read(weights);
        Map<String, Tensor> methodTensors = new LinkedHashMap<>();
        String methodPrefix = model.method().keysSavedVerbatim() ? "" : PREFIX + "bert.";
        for (Map.Entry<String, Tensor> e : all.entrySet()) {
            if (e.getKey().startsWith(PREFIX + "classifier.")) {
                continue;
            }
            if (!e.getKey().startsWith(methodPrefix)) {
                throw new IOException(weights + ": unexpected tensor '" + e.getKey() + "'");
            }
            methodTensors.put(e.getKey().substring(methodPrefix.length()), e.getValue());
        }
        try {
            model.method().loadStateDict(methodTensors, manager);
        } catch (IOException e) {
            throw new IOException(weights + ": " + e.getMessage(), e);
        }
        loadHead(model, all, PREFIX, weights);
        return model;
    }

    private static void loadHead(ClassificationModel model, Map<String, Tensor> tensors, String prefix, Path file) throws IOException {
        for (Map.Entry<String, Parameter> e : model.network().headParameters().entrySet()) {
            Tensor t = tensors.get(prefix + e.getKey());
            if (t == null) {
                throw new IOException(file + ": missing classifier tensor '" + prefix + e.getKey() + "'");
            }
            long[] expected = e.getValue().getArray().getShape().getShape();
            if (!Arrays.equals(expected, t.shape())) {
                throw new IOException(file + ": '" + prefix + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(expected) + " (labels.json and the head disagree?)");
            }
            HfModule.assign(e.getValue(), t.toNDArray(model.backbone().embeddings().wordEmbeddings().weight().getArray()
                    .getManager(), e.getValue().getArray().getDataType()));
        }
    }

    private static void checkBackbone(JsonNode trained, BertConfig actual, Path dir) throws IOException {
        if (trained.isMissingNode()) {
            return;
        }
        StringBuilder diff = new StringBuilder();
        compare(diff, "hidden_size", trained, actual.hiddenSize());
        compare(diff, "num_hidden_layers", trained, actual.numHiddenLayers());
        compare(diff, "intermediate_size", trained, actual.intermediateSize());
        compare(diff, "vocab_size", trained, actual.vocabSize());
        if (diff.length() > 0) {
            throw new IOException(dir + " was trained on another backbone:" + diff
                    + " — pass the model the adapter was trained on");
        }
    }

    private static void compare(StringBuilder diff, String field, JsonNode trained, int actual) {
        JsonNode v = trained.get(field);
        if (v != null && v.asInt() != actual) {
            diff.append(' ').append(field).append(" ").append(v.asInt()).append(" (adapter) vs ").append(actual).append(" (backbone);");
        }
    }

    private static JsonNode readJson(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new IOException(p + ": missing");
        }
        return JSON.readTree(p.toFile());
    }
}
