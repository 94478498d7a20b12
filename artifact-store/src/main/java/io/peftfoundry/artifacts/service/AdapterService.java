package io.peftfoundry.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.artifacts.storage.Digests;
import io.peftfoundry.artifacts.validation.AdapterInspector;
import io.peftfoundry.artifacts.validation.FullModelInspector;
import io.peftfoundry.artifacts.validation.ZipLayout;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trained adapters ({@code /v1/adapters}), written by workers with their lineage. A PEFT method's adapter is a
 * PEFT/AdapterHub directory ({@link AdapterInspector}); a full fine-tune's ({@code method: full}) is a whole Hugging
 * Face classifier directory ({@link FullModelInspector}), annotated {@code format: hf-model}, served the same way.
 */
@ApplicationScoped
public class AdapterService {

    static final Set<String> LINEAGE_FIELDS = Set.of("job_id", "base_model", "method", "dataset_digest", "parent_adapter");
    static final List<String> LINEAGE_REQUIRED = List.of("job_id", "base_model", "method");

    private final ArtifactStorage storage;
    private final ManifestRepository manifests;
    private final AdapterInspector inspector;
    private final FullModelInspector fullInspector;
    private final ObjectMapper mapper;

    public AdapterService(ArtifactStorage storage, ManifestRepository manifests, ObjectMapper mapper) {
        this.storage = storage;
        this.manifests = manifests;
        this.mapper = mapper;
        this.inspector = new AdapterInspector(mapper);
        this.fullInspector = new FullModelInspector(mapper, ModelService.SUPPORTED_MODEL_TYPES);
    }

    public Artifact upload(Caller caller, Path zip, long size, String lineageJson, String name, String onBehalfOf) throws IOException {
        String tenant = caller.owningTenant(onBehalfOf);
        storage.checkUploadSize(size);
        ObjectNode lineage = parseLineage(lineageJson);
        String method = lineage.get("method").asText();
        ObjectNode annotations = lineage.deepCopy();
        try {
            if ("full".equals(method)) {
                FullModelInspector.Result full = fullInspector.inspect(zip);
                annotations.put("format", "hf-model");
                annotations.put("tensors", full.header().tensors().size());
                annotations.put("model_type", full.modelType());
                annotations.put("parameters", full.parameterCount());
                if (full.labels() > 0) {
                    annotations.put("labels", full.labels());
                }
            } else {
                AdapterInspector.Result result = inspector.inspect(zip, method);
                annotations.put("format", result.format());
                annotations.put("tensors", result.header().tensors().size());
                JsonNode peftType = result.config().get("peft_type");
                if (peftType != null) {
                    annotations.set("peft_type", peftType);
                }
                JsonNode rank = result.config().get("r");
                if (rank != null && rank.isNumber()) {
                    annotations.set("rank", rank);
                }
            }
        } catch (AdapterInspector.InvalidAdapterException e) {
            throw ProblemException.badRequest("invalid-adapter", e.getMessage(), e.errors());
        } catch (ZipLayout.InvalidArchiveException e) {
            throw ProblemException.badRequest("invalid-archive", e.getMessage());
        }
        Digests.DigestAndSize digest = Digests.of(zip);
        String displayName = name == null || name.isBlank() ? "adapter-" + lineage.get("job_id").asText() : name;
        Artifact a = new Artifact(ArtifactIds.next("adapter"), tenant, Artifact.ADAPTER, FileService.displayName(displayName),
                digest.sha256Hex(), digest.size(), "application/zip", annotations, OffsetDateTime.now(ZoneOffset.UTC),
                null, null, null, null, lineage.get("job_id").asText(), null, null);
        return storage.store(a, zip);
    }

    private ObjectNode parseLineage(String lineageJson) {
        if (lineageJson == null || lineageJson.isBlank()) {
            throw ProblemException.badRequest("invalid-field", "multipart part 'lineage' (JSON: job_id, base_model, method, "
                    + "dataset_digest, parent_adapter) is missing", List.of(new FieldError("lineage", "missing")));
        }
        JsonNode node;
        try {
            node = mapper.readTree(lineageJson);
        } catch (IOException e) {
            throw ProblemException.badRequest("invalid-field", "'lineage' is not valid JSON",
                    List.of(new FieldError("lineage", "invalid JSON")));
        }
        if (node == null || !node.isObject()) {
            throw ProblemException.badRequest("invalid-field", "'lineage' must be a JSON object",
                    List.of(new FieldError("lineage", "not an object")));
        }
        List<FieldError> errors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!LINEAGE_FIELDS.contains(e.getKey())) {
                errors.add(new FieldError("lineage." + e.getKey(), "unknown field; allowed: job_id, base_model, method, dataset_digest, parent_adapter"));
            } else if (!e.getValue().isNull() && !e.getValue().isTextual()) {
                errors.add(new FieldError("lineage." + e.getKey(), "must be a string"));
            }
        }
        for (String required : LINEAGE_REQUIRED) {
            if (!node.path(required).isTextual() || node.path(required).asText().isBlank()) {
                errors.add(new FieldError("lineage." + required, "missing"));
            }
        }
        String method = node.path("method").asText("");
        if (!method.isEmpty() && !AdapterInspector.METHODS.contains(method)) {
            errors.add(new FieldError("lineage.method", "unknown method '" + method + "'; allowed: adapter, full, ia3, lora, prefix, prompt"));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("invalid-field", "'lineage' is invalid", errors);
        }
        return (ObjectNode) node;
    }

    public Page<Artifact> list(Caller caller, PageRequest page) {
        return manifests.list(Artifact.ADAPTER, caller, page);
    }

    public Artifact get(Caller caller, String id) {
        return manifests.find(Artifact.ADAPTER, id, caller).orElseThrow(() -> ProblemException.notFound("adapter", id));
    }
}
