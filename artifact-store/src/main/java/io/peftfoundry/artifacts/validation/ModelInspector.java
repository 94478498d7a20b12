package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.rest.Problem.FieldError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;

/**
 * Checks a Hugging Face layout backbone zip: {@code config.json}, {@code model.safetensors} and
 * {@code tokenizer.json} present, {@code config.json} {@code model_type} supported, safetensors header sane.
 */
public class ModelInspector {

    public static final List<String> REQUIRED_FILES = List.of("config.json", "model.safetensors", "tokenizer.json");

    public record Result(String modelType, JsonNode config, int tensorCount, long parameterCount) {
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
                    missing.add(FieldError.of(f, "missing"));
                }
            }
            if (!missing.isEmpty()) {
                throw new AdapterInspector.InvalidAdapterException("the model zip lacks "
                        + String.join(", ", missing.stream().map(FieldError::field).toList())
                        + "; a Hugging Face layout model needs " + String.join(", ", REQUIRED_FILES), missing);
            }
            JsonNode config;
            try (InputStream in = zip.open(zip.find("config.json").get())) {
                config = mapper.readTree(in);
            } catch (IOException e) {
                throw new AdapterInspector.InvalidAdapterException("config.json is not valid JSON",
                        List.of(FieldError.of("config.json", "invalid JSON")));
            }
            String modelType = config == null ? null : config.path("model_type").asText(null);
            if (modelType == null || !supportedTypes.contains(modelType)) {
                throw new AdapterInspector.InvalidAdapterException("unsupported architecture: config.json model_type is "
                        + (modelType == null ? "missing" : "'" + modelType + "'") + "; supported: "
                        + String.join(", ", supportedTypes.stream().sorted().toList()),
                        List.of(FieldError.of("config.json/model_type", modelType == null ? "missing" : "unsupported '" + modelType + "'")));
            }
            ZipEntry weights = zip.find("model.safetensors").get();
            SafetensorsHeader header;
            try (InputStream in = zip.open(weights)) {
                header = SafetensorsHeader.read(in, weights.getSize(), mapper);
            } catch (IOException e) {
                throw new AdapterInspector.InvalidAdapterException("model.safetensors is not a valid safetensors file: "
                        + e.getMessage(), List.of(FieldError.of("model.safetensors", e.getMessage())));
            }
            long params = 0;
            for (SafetensorsHeader.Tensor t : header.tensors().values()) {
                long n = 1;
                for (long d : t.shape()) {
                    n *= d;
                }
                params += n;
            }
            return new Result(modelType, config, header.tensors().size(), params);
        }
    }
}
