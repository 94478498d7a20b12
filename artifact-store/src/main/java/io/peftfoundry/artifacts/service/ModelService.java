package io.peftfoundry.artifacts.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.artifacts.storage.Digests;
import io.peftfoundry.artifacts.validation.AdapterInspector;
import io.peftfoundry.artifacts.validation.ModelInspector;
import io.peftfoundry.artifacts.validation.ZipLayout;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Backbones ({@code /v1/models}): Hugging Face layout zips. Built-in encoders belong to tenant
 * {@code _builtin} and are visible to everyone; uploaded ones belong to the uploader's tenant. A model
 * is addressed by its id or by its name (the name a job spec's {@code model} uses).
 */
@ApplicationScoped
public class ModelService {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ModelService.class);

    /** Architectures peft-engine can load today. */
    public static final Set<String> SUPPORTED_MODEL_TYPES = Set.of("bert", "gpt2", "llama", "mistral", "qwen2");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private final ArtifactStorage storage;
    private final ManifestRepository manifests;
    private final ModelInspector inspector;

    public ModelService(ArtifactStorage storage, ManifestRepository manifests, ObjectMapper mapper) {
        this.storage = storage;
        this.manifests = manifests;
        this.inspector = new ModelInspector(mapper, SUPPORTED_MODEL_TYPES);
    }

    public Artifact register(Caller caller, Path zip, long size, String name, String onBehalfOf) throws IOException {
        return register(caller.owningTenant(onBehalfOf), zip, size, name);
    }

    /** Registers a model zip for a tenant ({@link ManifestRepository#BUILTIN_TENANT} for built-ins). */
    public Artifact register(String tenant, Path zip, long size, String name) throws IOException {
        return register(tenant, zip, size, name, null, Map.of());
    }

    /** As {@link #register(String, Path, long, String)}, plus annotations such as a built-in's {@code license} and {@code source}. */
    public Artifact register(String tenant, Path zip, long size, String name, Map<String, String> extraAnnotations)
            throws IOException {
        return register(tenant, zip, size, name, null, extraAnnotations);
    }

    /**
     * The zip streamed as the request body ({@code Content-Type: application/zip}): copied once to a work file while
     * SHA-256 digests it (no second pass over a multipart spool), refused with 413 as soon as it passes the upload limit.
     */
    public Artifact registerStream(Caller caller, java.io.InputStream body, String name, String onBehalfOf) throws IOException {
        return registerStream(caller, body, name, onBehalfOf, null, null);
    }

    /**
     * As {@link #registerStream(Caller, java.io.InputStream, String, String)}; when the uploader declared the body's
     * SHA-256 ({@code Content-Digest: sha-256=:<base64>:}, RFC 9530) and its length, the blob is also sent to S3 while
     * it is received (one PUT under the declared digest whose last bytes are held back): it is stored only when the
     * received bytes hash to the declared digest and the model passed inspection — otherwise the PUT is abandoned
     * without its last bytes and nothing is stored. A digest that does not match is refused with 400.
     */
    public Artifact registerStream(Caller caller, java.io.InputStream body, String name, String onBehalfOf,
                                   String declaredSha256Hex, Long contentLength) throws IOException {
        String tenant = caller.owningTenant(onBehalfOf);
        if (contentLength != null) {
            storage.checkUploadSize(contentLength);
        }
        Path work = java.nio.file.Files.createTempFile(storage.workDir(), "model-", ".zip");
        Optional<io.peftfoundry.artifacts.storage.BlobStore.PendingPut> streamed = Optional.empty();
        try {
            if (declaredSha256Hex != null && contentLength != null && name != null && NAME.matcher(name).matches()) {
                streamed = storage.beginPut(declaredSha256Hex, contentLength, "application/zip");
            }
            Digests.DigestAndSize digest;
            try (Digests.HashingInputStream in = new Digests.HashingInputStream(body);
                 java.io.OutputStream out = java.nio.file.Files.newOutputStream(work)) {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    storage.checkUploadSize(in.count());
                    if (streamed.isPresent()) {
                        try {
                            streamed.get().write(buf, 0, n);
                        } catch (IOException e) {
                            // the S3 side failed (or went idle too long): finish receiving, then put from the work file
                            LOG.warnf("put of %s while receiving failed (%s); putting it from the work file instead",
                                    declaredSha256Hex, e.getMessage());
                            streamed.get().abort();
                            streamed = Optional.empty();
                        }
                    }
                }
                digest = in.result();
            }
            if (declaredSha256Hex != null && !declaredSha256Hex.equals(digest.sha256Hex())) {
                throw ProblemException.badRequest("digest-mismatch", "the body's sha-256 is " + digest.sha256Hex()
                        + ", not the " + declaredSha256Hex + " its Content-Digest header declared; nothing was stored");
            }
            return register(tenant, work, digest.size(), name, digest, Map.of(), streamed.orElse(null));
        } finally {
            streamed.ifPresent(io.peftfoundry.artifacts.storage.BlobStore.PendingPut::abort); // no-op once finished
            java.nio.file.Files.deleteIfExists(work);
        }
    }

    private Artifact register(String tenant, Path zip, long size, String name, Digests.DigestAndSize known,
                              Map<String, String> extraAnnotations) throws IOException {
        return register(tenant, zip, size, name, known, extraAnnotations, null);
    }

    private Artifact register(String tenant, Path zip, long size, String name, Digests.DigestAndSize known,
                              Map<String, String> extraAnnotations,
                              io.peftfoundry.artifacts.storage.BlobStore.PendingPut streamed) throws IOException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ProblemException.badRequest("invalid-field", "'name' must be 1–64 characters of a-z, 0-9, '.', '_', '-'",
                    List.of(new FieldError("name", name == null ? "missing" : "invalid '" + name + "'")));
        }
        storage.checkUploadSize(size);
        ModelInspector.Result result;
        try {
            result = inspector.inspect(zip);
        } catch (AdapterInspector.InvalidAdapterException e) {
            throw ProblemException.badRequest("invalid-model", e.getMessage(), e.errors());
        } catch (ZipLayout.InvalidArchiveException e) {
            throw ProblemException.badRequest("invalid-archive", e.getMessage());
        }
        if (manifests.findModelByName(tenant, name).isPresent()) {
            throw ProblemException.typed(409, "conflict", "Conflict", "a model named '" + name + "' is already registered");
        }
        ObjectNode annotations = new ObjectMapper().createObjectNode();
        annotations.put("model_type", result.modelType());
        annotations.put("family", result.modelType());
        annotations.put("tensors", result.tensorCount());
        annotations.put("parameters", result.parameterCount());
        annotations.put("dtype", result.dtype());
        annotations.set("parameters_by_dtype", new ObjectMapper().valueToTree(result.parametersByDtype()));
        annotations.put("shards", result.shards());
        annotations.put("chat_template", result.chatTemplate());
        // the sizes job-api's memory estimate reads (GPT-2's config.json names them n_embd, n_layer, n_head, n_inner)
        for (String key : List.of("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size",
                "max_position_embeddings", "torch_dtype", "intermediate_size", "n_embd", "n_layer", "n_head", "n_inner",
                "n_positions")) {
            if (result.config().has(key)) {
                annotations.set(key, result.config().get(key));
            }
        }
        extraAnnotations.forEach(annotations::put);
        Digests.DigestAndSize digest = known != null ? known : Digests.of(zip);
        Artifact a = new Artifact(ArtifactIds.next("model"), tenant, Artifact.MODEL, name, digest.sha256Hex(), digest.size(),
                "application/zip", annotations, OffsetDateTime.now(ZoneOffset.UTC), null, null, null, null, null, null, null);
        return storage.store(a, zip, streamed);
    }

    public Page<Artifact> list(Caller caller, PageRequest page) {
        return manifests.list(Artifact.MODEL, caller, page);
    }

    /** By id, else by name (the caller's own model first, then a built-in). */
    public Artifact get(Caller caller, String idOrName) {
        return get(caller, idOrName, null);
    }

    /**
     * As {@link #get(Caller, String)}, but for a platform key naming the tenant it works for ({@code tenant}, e.g. the
     * worker for a job's tenant): the model is looked up as that tenant sees it, so a name means that tenant's model.
     */
    public Artifact get(Caller caller, String idOrName, String tenant) {
        Caller as = tenant == null || tenant.isBlank() ? caller : caller.actingFor(caller.owningTenant(tenant));
        return manifests.find(Artifact.MODEL, idOrName, as)
                .or(() -> manifests.findModelByName(as.tenant(), idOrName))
                .or(() -> manifests.findModelByName(ManifestRepository.BUILTIN_TENANT, canonicalBuiltinName(idOrName)))
                .orElseThrow(() -> ProblemException.notFound("model", idOrName));
    }

    /** Job specs may use peft-engine's short aliases (minilm-l6-v2, bge-small, e5-small). */
    static String canonicalBuiltinName(String name) {
        try {
            return io.peftfoundry.engine.importer.PretrainedEncoder.byName(name).id;
        } catch (IllegalArgumentException e) {
            return name;
        }
    }

    public Optional<Artifact> builtin(String name) {
        return manifests.findModelByName(ManifestRepository.BUILTIN_TENANT, name);
    }
}
