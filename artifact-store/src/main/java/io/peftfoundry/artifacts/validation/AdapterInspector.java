package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;

/**
 * Checks an adapter zip: {@code adapter_config.json} plus {@code adapter_model.safetensors} (PEFT) or
 * {@code adapter.safetensors} (AdapterHub bottleneck adapters), and that the weights hold no full
 * word-embedding or LM-head matrix the method does not need (a PEFT adapter that carries them is a
 * disguised full checkpoint). Such matrices are allowed only when the config lists the module in
 * {@code modules_to_save}. A full fine-tune is not checked here: it is a whole model directory
 * ({@link FullModelInspector}).
 */
public class AdapterInspector {

    public static final Set<String> METHODS = Set.of("lora", "adapter", "prefix", "prompt", "ia3", "full");
    /** Module names of full vocabulary matrices in BERT, GPT-2 and LLaMA layouts. */
    public static final Set<String> VOCAB_MATRICES = Set.of("word_embeddings", "wte", "embed_tokens", "lm_head");
    /** Wrapper segments PEFT puts between a module and its weight. */
    private static final Set<String> WRAPPERS = Set.of("base_layer", "original_module");

    public record Result(String format, String weightsFile, JsonNode config, SafetensorsHeader header) {
    }

    private final ObjectMapper mapper;

    public AdapterInspector(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** @throws InvalidAdapterException with per-item faults when the adapter must be refused */
    public Result inspect(Path zipFile, String method) throws IOException {
        try (ZipLayout zip = ZipLayout.open(zipFile)) {
            ZipEntry configEntry = zip.find("adapter_config.json").orElseThrow(() -> new InvalidAdapterException(
                    "the adapter zip has no adapter_config.json", List.of(new FieldError("adapter_config.json", "missing"))));
            ZipEntry weights = zip.find("adapter_model.safetensors").or(() -> zip.find("adapter.safetensors"))
                    .orElseThrow(() -> new InvalidAdapterException(
                            "the adapter zip has neither adapter_model.safetensors (PEFT) nor adapter.safetensors (AdapterHub)",
                            List.of(new FieldError("adapter_model.safetensors", "missing"))));
            JsonNode config;
            try {
                config = zip.readJson(configEntry, mapper);
            } catch (ZipLayout.InvalidArchiveException e) {
                throw new InvalidAdapterException(e.getMessage(), List.of(new FieldError("adapter_config.json", e.getMessage())));
            } catch (IOException e) {
                throw new InvalidAdapterException("adapter_config.json is not valid JSON",
                        List.of(new FieldError("adapter_config.json", "invalid JSON")));
            }
            if (config == null || !config.isObject()) {
                throw new InvalidAdapterException("adapter_config.json is not a JSON object",
                        List.of(new FieldError("adapter_config.json", "not an object")));
            }
            SafetensorsHeader header;
            String weightsName = weights.getName().substring(weights.getName().lastIndexOf('/') + 1);
            try (InputStream in = zip.open(weights)) {
                header = SafetensorsHeader.read(in, weights.getSize(), mapper);
            } catch (IOException e) {
                throw new InvalidAdapterException(weightsName + " is not a valid safetensors file: " + e.getMessage(),
                        List.of(new FieldError(weightsName, e.getMessage())));
            }
            Set<String> modulesToSave = new HashSet<>();
            config.path("modules_to_save").forEach(m -> modulesToSave.add(m.asText()));
            List<FieldError> refused = new ArrayList<>();
            for (SafetensorsHeader.Tensor t : header.tensors().values()) {
                String module = fullVocabMatrixModule(t.name());
                if (module != null && !modulesToSave.contains(module)) {
                    refused.add(new FieldError(t.name(), "full " + (module.equals("lm_head") ? "LM-head" : "word-embedding")
                            + " matrix " + t.shape() + " is not needed by method '" + method
                            + "'; drop it or list '" + module + "' in modules_to_save"));
                }
            }
            if (!refused.isEmpty()) {
                throw new InvalidAdapterException("the adapter carries " + refused.size()
                        + " full embedding/LM-head matrix(es) that method '" + method + "' does not train: "
                        + String.join(", ", refused.stream().map(FieldError::field).toList()), refused);
            }
            return new Result(weightsName.equals("adapter.safetensors") ? "adapterhub" : "peft", weightsName, config, header);
        }
    }

    /**
     * The vocabulary module whose full matrix this tensor is ({@code ….word_embeddings.weight},
     * {@code lm_head.base_layer.weight}, {@code ….embed_tokens.modules_to_save.default.weight}), else null.
     * LoRA factors of such modules ({@code lm_head.lora_A.weight}) are not full matrices.
     */
    static String fullVocabMatrixModule(String tensorName) {
        String[] parts = tensorName.split("\\.");
        for (int i = 0; i < parts.length; i++) {
            if (!VOCAB_MATRICES.contains(parts[i])) {
                continue;
            }
            List<String> rest = new ArrayList<>();
            for (int j = i + 1; j < parts.length; j++) {
                if (!WRAPPERS.contains(parts[j])) {
                    rest.add(parts[j]);
                }
            }
            boolean plain = rest.equals(List.of("weight"));
            boolean saved = rest.size() == 3 && rest.get(0).equals("modules_to_save") && rest.get(2).equals("weight");
            if (plain || saved) {
                return parts[i];
            }
        }
        return null;
    }

    /** An adapter that must be refused; {@link #errors()} names the files or tensors. */
    public static class InvalidAdapterException extends IOException {
        private final List<FieldError> errors;

        public InvalidAdapterException(String message, List<FieldError> errors) {
            super(message);
            this.errors = errors;
        }

        public List<FieldError> errors() {
            return errors;
        }
    }
}
