package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;

/**
 * Checks a Hugging Face layout model zip without loading any weights: {@code config.json} and {@code tokenizer.json}
 * present, {@code config.json} {@code model_type} supported, and the weights either one {@code model.safetensors} or
 * a sharded checkpoint — {@code model.safetensors.index.json} whose {@code weight_map} names shards that are all in
 * the zip and hold every tensor it lists. Only the safetensors headers (8 bytes + JSON) are read: parameter count, the
 * dtype holding most parameters ({@code BF16} for a bf16 checkpoint) and the shard count come from them. Whether a chat
 * template is present ({@code chat_template.jinja}, or {@code chat_template} in {@code tokenizer_config.json}) is
 * reported, so chat data can be matched with models that can render it.
 */
public class ModelInspector {

    public static final List<String> REQUIRED_FILES = List.of("config.json", "tokenizer.json");
    public static final String WEIGHTS = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    /** Shards per checkpoint at most (a 405B model has 191). */
    public static final int MAX_SHARDS = 1024;

    public record Result(String modelType, JsonNode config, int tensorCount, long parameterCount, String dtype,
                         Map<String, Long> parametersByDtype, int shards, boolean chatTemplate) {
    }

    private final ObjectMapper mapper;
    private final Set<String> supportedTypes;

    public ModelInspector(ObjectMapper mapper, Set<String> supportedTypes) {
        this.mapper = mapper;
        this.supportedTypes = supportedTypes;
    }

    public Result inspect(Path zipFile) throws IOException {
        try (ZipLayout zip = ZipLayout.open(zipFile)) {
            List<FieldError> missing = new ArrayList<>();
            for (String f : REQUIRED_FILES) {
                if (zip.find(f).isEmpty()) {
                    missing.add(new FieldError(f, "missing"));
                }
            }
            boolean sharded = zip.find(INDEX).isPresent();
            if (!sharded && zip.find(WEIGHTS).isEmpty()) {
                missing.add(new FieldError(WEIGHTS, "missing (or " + INDEX + " with its shards)"));
            }
            if (!missing.isEmpty()) {
                throw new AdapterInspector.InvalidAdapterException("the model zip lacks "
                        + String.join(", ", missing.stream().map(FieldError::field).toList())
                        + "; a Hugging Face layout model needs config.json, tokenizer.json and " + WEIGHTS
                        + " (or a sharded checkpoint: " + INDEX + " + the shards it names)", missing);
            }
            JsonNode config = readJson(zip, "config.json");
            String modelType = config == null ? null : config.path("model_type").asText(null);
            if (modelType == null || !supportedTypes.contains(modelType)) {
                throw new AdapterInspector.InvalidAdapterException("unsupported architecture: config.json model_type is "
                        + (modelType == null ? "missing" : "'" + modelType + "'") + "; supported: "
                        + String.join(", ", supportedTypes.stream().sorted().toList()),
                        List.of(new FieldError("config.json/model_type", modelType == null ? "missing" : "unsupported '" + modelType + "'")));
            }
            Map<String, SafetensorsHeader> headers = new LinkedHashMap<>();
            if (sharded) {
                JsonNode weightMap = readJson(zip, INDEX).path("weight_map");
                if (!weightMap.isObject() || weightMap.isEmpty()) {
                    throw invalid(INDEX, "has no weight_map (tensor name -> shard file)");
                }
                Map<String, String> tensorToShard = new LinkedHashMap<>();
                weightMap.fields().forEachRemaining(e -> tensorToShard.put(e.getKey(), e.getValue().asText()));
                Set<String> shardNames = new java.util.TreeSet<>(tensorToShard.values());
                if (shardNames.size() > MAX_SHARDS) {
                    throw invalid(INDEX, "names " + shardNames.size() + " shards; at most " + MAX_SHARDS);
                }
                for (String shard : shardNames) {
                    if (!shard.endsWith(".safetensors") || shard.contains("/") || shard.contains("\\")) {
                        throw invalid(INDEX, "shard '" + shard + "' is not a .safetensors file beside the index");
                    }
                    if (zip.find(shard).isEmpty()) {
                        throw invalid(shard, "missing: " + INDEX + " names it in weight_map");
                    }
                    headers.put(shard, header(zip, shard));
                }
                for (Map.Entry<String, String> e : tensorToShard.entrySet()) {
                    if (!headers.get(e.getValue()).tensors().containsKey(e.getKey())) {
                        throw invalid(e.getValue(), "does not hold tensor '" + e.getKey() + "' that " + INDEX + " maps to it");
                    }
                }
            } else {
                headers.put(WEIGHTS, header(zip, WEIGHTS));
            }
            long params = 0;
            int tensors = 0;
            Map<String, Long> byDtype = new java.util.TreeMap<>();
            for (SafetensorsHeader h : headers.values()) {
                for (SafetensorsHeader.Tensor t : h.tensors().values()) {
                    long n = 1;
                    for (long d : t.shape()) {
                        n *= d;
                    }
                    params += n;
                    tensors++;
                    byDtype.merge(t.dtype(), n, Long::sum);
                }
            }
            String dtype = byDtype.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
            boolean chatTemplate = zip.find("chat_template.jinja").isPresent()
                    || zip.find("tokenizer_config.json").isPresent() && hasTemplateField(readJson(zip, "tokenizer_config.json"));
            return new Result(modelType, config, tensors, params, dtype, byDtype, sharded ? headers.size() : 1, chatTemplate);
        }
    }

    private static boolean hasTemplateField(JsonNode tokenizerConfig) {
        JsonNode t = tokenizerConfig == null ? null : tokenizerConfig.get("chat_template");
        return t != null && (t.isTextual() && !t.asText().isBlank() || t.isArray() && !t.isEmpty());
    }

    private JsonNode readJson(ZipLayout zip, String name) throws IOException {
        try (InputStream in = zip.open(zip.find(name).get())) {
            return mapper.readTree(in);
        } catch (IOException e) {
            throw new AdapterInspector.InvalidAdapterException(name + " is not valid JSON", List.of(new FieldError(name, "invalid JSON")));
        }
    }

    private SafetensorsHeader header(ZipLayout zip, String name) throws IOException {
        ZipEntry weights = zip.find(name).get();
        try (InputStream in = zip.open(weights)) {
            return SafetensorsHeader.read(in, weights.getSize(), mapper);
        } catch (IOException e) {
            throw invalid(name, "is not a valid safetensors file: " + e.getMessage());
        }
    }

    private static AdapterInspector.InvalidAdapterException invalid(String file, String problem) {
        return new AdapterInspector.InvalidAdapterException(file + " " + problem, List.of(new FieldError(file, problem)));
    }
}
