package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;

/**
 * Checks the output of a full fine-tune (lineage {@code method: full}): a whole Hugging Face model directory whose
 * parts agree with each other. For a classifier ({@code model_type: bert}, a {@code BertForSequenceClassification}):
 * {@code config.json}, {@code model.safetensors} ({@code bert.*} and {@code classifier.*}), {@code tokenizer.json}
 * and {@code labels.json}; the word-embedding matrix is {@code vocab_size × hidden_size}, the encoder has exactly
 * {@code num_hidden_layers} layers, the classifier has one row per label, and {@code labels.json} and
 * {@code config.json} name the same labels. For a decoder ({@code model_type: gpt2}, a {@code GPT2LMHeadModel} from a
 * causal job): {@code config.json}, {@code model.safetensors} ({@code transformer.*}, optionally {@code lm_head.*}),
 * {@code tokenizer.json}; {@code wte} is {@code vocab_size × n_embd} and there are exactly {@code n_layer} blocks;
 * likewise {@code model_type: llama} ({@code model.*}, {@code embed_tokens}, {@code num_hidden_layers} layers).
 * A zip with {@code adapter_config.json} is a PEFT adapter, not a full fine-tune, and is refused as such.
 */
public class FullModelInspector {

    public static final List<String> REQUIRED_FILES = List.of("config.json", "model.safetensors", "tokenizer.json");
    /** A classifier's extra file: its labels. */
    public static final String LABELS = "labels.json";

    /** How one architecture names its sizes and tensors. */
    private record Layout(String vocabField, String hiddenField, String layersField, String embeddings,
                          String layerPrefix, List<String> prefixes, boolean classifier) {
        /** Matches a tensor of one layer; group 1 is its index. */
        Pattern layer() {
            return Pattern.compile("^" + Pattern.quote(layerPrefix + ".") + "(\\d+)\\.");
        }
    }

    private static final java.util.Map<String, Layout> LAYOUTS = java.util.Map.of(
            "bert", new Layout("vocab_size", "hidden_size", "num_hidden_layers", "bert.embeddings.word_embeddings.weight",
                    "bert.encoder.layer", List.of("bert.", "classifier."), true),
            "gpt2", new Layout("vocab_size", "n_embd", "n_layer", "transformer.wte.weight",
                    "transformer.h", List.of("transformer.", "lm_head."), false),
            "llama", new Layout("vocab_size", "hidden_size", "num_hidden_layers", "model.embed_tokens.weight",
                    "model.layers", List.of("model.", "lm_head."), false));

    public record Result(String modelType, JsonNode config, SafetensorsHeader header, int labels, long parameterCount) {
    }

    private final ObjectMapper mapper;
    private final Set<String> supportedTypes;

    public FullModelInspector(ObjectMapper mapper, Set<String> supportedTypes) {
        this.mapper = mapper;
        this.supportedTypes = supportedTypes;
    }

    /** @throws AdapterInspector.InvalidAdapterException naming each missing file or inconsistent tensor */
    public Result inspect(Path zipFile) throws IOException {
        try (ZipLayout zip = ZipLayout.open(zipFile)) {
            if (zip.find("adapter_config.json").isPresent()) {
                throw invalid("the zip holds adapter_config.json, so it is a PEFT adapter, not a full fine-tune:"
                        + " upload it with the method it was trained with", "adapter_config.json",
                        "not expected for method 'full'");
            }
            List<FieldError> missing = new ArrayList<>();
            for (String f : REQUIRED_FILES) {
                if (zip.find(f).isEmpty()) {
                    missing.add(new FieldError(f, "missing"));
                }
            }
            if (!missing.isEmpty()) {
                throw new AdapterInspector.InvalidAdapterException("a full fine-tune must be a Hugging Face model"
                        + " directory with " + String.join(", ", REQUIRED_FILES) + " (and labels.json for a classifier);"
                        + " the zip lacks " + String.join(", ", missing.stream().map(FieldError::field).toList()), missing);
            }
            JsonNode config = readJson(zip, "config.json");
            JsonNode tokenizer = readJson(zip, "tokenizer.json");
            String modelType = config.path("model_type").asText(null);
            Layout layout = modelType == null ? null : LAYOUTS.get(modelType);
            if (layout == null || !supportedTypes.contains(modelType)) {
                throw invalid("unsupported architecture: config.json model_type is "
                        + (modelType == null ? "missing" : "'" + modelType + "'") + "; supported: "
                        + String.join(", ", supportedTypes.stream().filter(LAYOUTS::containsKey).sorted().toList()),
                        "config.json/model_type", modelType == null ? "missing" : "unsupported '" + modelType + "'");
            }
            int vocab = positiveInt(config, layout.vocabField());
            int hidden = positiveInt(config, layout.hiddenField());
            int layers = positiveInt(config, layout.layersField());
            TreeMap<Integer, String> configLabels = new TreeMap<>();
            if (layout.classifier()) {
                if (zip.find(LABELS).isEmpty()) {
                    throw invalid("a full fine-tune of a classifier needs labels.json (id2label) beside the model",
                            LABELS, "missing");
                }
                configLabels = labels(config, "config.json");
                TreeMap<Integer, String> fileLabels = labels(readJson(zip, LABELS), LABELS);
                if (!configLabels.equals(fileLabels)) {
                    throw invalid("labels.json id2label " + fileLabels.values() + " differs from config.json id2label "
                            + configLabels.values(), "labels.json/id2label", "differs from config.json");
                }
            }
            int tokenizerVocab = tokenizer.path("model").path("vocab").size();
            if (tokenizerVocab > vocab) {
                throw invalid("tokenizer.json has " + tokenizerVocab + " tokens but config.json vocab_size is " + vocab
                        + ": the tokenizer belongs to another model", "tokenizer.json/model/vocab",
                        tokenizerVocab + " tokens > vocab_size " + vocab);
            }

            ZipEntry weights = zip.find("model.safetensors").get();
            SafetensorsHeader header;
            try (InputStream in = zip.open(weights)) {
                header = SafetensorsHeader.read(in, weights.getSize(), mapper);
            } catch (IOException e) {
                throw invalid("model.safetensors is not a valid safetensors file: " + e.getMessage(),
                        "model.safetensors", e.getMessage());
            }
            List<FieldError> faults = new ArrayList<>();
            expectShape(header, layout.embeddings(), List.of((long) vocab, (long) hidden), faults);
            if (layout.classifier()) {
                expectShape(header, "classifier.weight", List.of((long) configLabels.size(), (long) hidden), faults);
                expectShape(header, "classifier.bias", List.of((long) configLabels.size()), faults);
            }
            int maxLayer = -1;
            long params = 0;
            Pattern layerPattern = layout.layer();
            for (SafetensorsHeader.Tensor t : header.tensors().values()) {
                Matcher m = layerPattern.matcher(t.name());
                if (m.find()) {
                    maxLayer = Math.max(maxLayer, Integer.parseInt(m.group(1)));
                } else if (layout.prefixes().stream().noneMatch(t.name()::startsWith)) {
                    faults.add(new FieldError(t.name(), "unexpected tensor: a full " + modelType + " fine-tune holds "
                            + String.join(", ", layout.prefixes().stream().map(x -> x + "*").toList()) + " only"));
                }
                long n = 1;
                for (long d : t.shape()) {
                    n *= d;
                }
                params += n;
            }
            if (maxLayer + 1 != layers) {
                faults.add(new FieldError(layout.layerPrefix(), "the weights hold " + (maxLayer + 1)
                        + " layers, config.json " + layout.layersField() + " is " + layers));
            }
            if (!faults.isEmpty()) {
                throw new AdapterInspector.InvalidAdapterException("model.safetensors disagrees with config.json: "
                        + String.join("; ", faults.stream().map(f -> f.field() + " " + f.message()).toList()), faults);
            }
            return new Result(modelType, config, header, configLabels.size(), params);
        }
    }

    private static void expectShape(SafetensorsHeader header, String name, List<Long> shape, List<FieldError> faults) {
        SafetensorsHeader.Tensor t = header.tensors().get(name);
        if (t == null) {
            faults.add(new FieldError(name, "missing"));
        } else if (!t.shape().equals(shape)) {
            faults.add(new FieldError(name, "has shape " + t.shape() + ", expected " + shape));
        }
    }

    private JsonNode readJson(ZipLayout zip, String name) throws IOException {
        JsonNode node;
        try {
            node = zip.readJson(zip.find(name).get(), mapper);
        } catch (ZipLayout.InvalidArchiveException e) {
            throw invalid(e.getMessage(), name, e.getMessage());
        } catch (IOException e) {
            throw invalid(name + " is not valid JSON", name, "invalid JSON");
        }
        if (node == null || !node.isObject()) {
            throw invalid(name + " is not a JSON object", name, "not an object");
        }
        return node;
    }

    private static int positiveInt(JsonNode config, String field) throws IOException {
        JsonNode v = config.get(field);
        if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
            throw invalid("config.json " + field + " must be a positive integer", "config.json/" + field,
                    v == null ? "missing" : "not a positive integer");
        }
        return v.asInt();
    }

    /** id2label as index → label; indices must be 0..n-1. */
    private static TreeMap<Integer, String> labels(JsonNode json, String file) throws IOException {
        JsonNode id2label = json.get("id2label");
        if (id2label == null || !id2label.isObject() || id2label.isEmpty()) {
            throw invalid(file + " has no id2label (the classifier's labels)", file + "/id2label", "missing");
        }
        TreeMap<Integer, String> out = new TreeMap<>();
        var it = id2label.fields();
        while (it.hasNext()) {
            var e = it.next();
            try {
                out.put(Integer.parseInt(e.getKey()), e.getValue().asText());
            } catch (NumberFormatException ex) {
                throw invalid(file + " id2label key '" + e.getKey() + "' is not an index", file + "/id2label",
                        "key '" + e.getKey() + "' is not an index");
            }
        }
        if (out.firstKey() != 0 || out.lastKey() != out.size() - 1) {
            throw invalid(file + " id2label indices must be 0.." + (out.size() - 1), file + "/id2label",
                    "indices not 0.." + (out.size() - 1));
        }
        return out;
    }

    private static AdapterInspector.InvalidAdapterException invalid(String message, String field, String fault) {
        return new AdapterInspector.InvalidAdapterException(message, List.of(new FieldError(field, fault)));
    }
}
