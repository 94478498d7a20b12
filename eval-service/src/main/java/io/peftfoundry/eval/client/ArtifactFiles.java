package io.peftfoundry.eval.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.artifacts.client.ArtifactStoreException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Backbones, adapters and datasets from artifact-store, unpacked once per content digest under the cache directory
 * ({@code models/<hex>/}, {@code adapters/<hex>/}; zips and datasets in the client's {@code sha256/} cache).
 */
public class ArtifactFiles {

    private static final Logger LOG = Logger.getLogger(ArtifactFiles.class);

    private final ArtifactClient client;
    private final Path cacheDir;

    public ArtifactFiles(ArtifactClient client, Path cacheDir) {
        this.client = client;
        this.cacheDir = cacheDir;
    }

    public ArtifactClient client() {
        return client;
    }

    /** A backbone directory (config.json, model.safetensors, tokenizer.json) for a model id or name. */
    public Path model(String idOrName) throws IOException {
        return model(idOrName, null);
    }

    /** A backbone named in {@code tenant} (a job's model name means the job's tenant's model). */
    public Path model(String idOrName, String tenant) throws IOException {
        JsonNode meta = client.getModel(idOrName, tenant);
        Path dir = cacheDir.resolve("models").resolve(hex(meta));
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            LOG.infof("downloading backbone %s (%s bytes)", idOrName, meta.path("bytes").asText("?"));
            Path tmp = Files.createTempDirectory(Files.createDirectories(cacheDir.resolve("tmp")), "model-");
            client.downloadModel(meta.path("id").asText(), cacheDir, tmp);
            publish(tmp, dir);
        }
        return dir;
    }

    /** Adapter metadata; 404 from the store is an {@link ArtifactStoreException} with status 404. */
    public JsonNode adapterMeta(String id) throws IOException {
        return client.getAdapter(id);
    }

    /** The unpacked adapter directory. */
    public Path adapter(String id) throws IOException {
        JsonNode meta = client.getAdapter(id);
        Path dir = cacheDir.resolve("adapters").resolve(hex(meta));
        if (!Files.isDirectory(dir)) {
            Path tmp = Files.createTempDirectory(Files.createDirectories(cacheDir.resolve("tmp")), "adapter-");
            client.downloadAdapter(id, cacheDir, tmp);
            publish(tmp, dir);
        }
        return dir;
    }

    /** A dataset file in the digest cache. */
    public Path dataset(String id) throws IOException {
        return client.downloadFile(id, cacheDir);
    }

    /** The dataset's content digest ({@code sha256:<hex>}). */
    public String datasetDigest(String id) throws IOException {
        String d = client.getFile(id).path("digest").asText("");
        if (d.isEmpty()) {
            throw new IOException("artifact-store gave no digest for file " + id);
        }
        return d;
    }

    private static String hex(JsonNode meta) throws IOException {
        String digest = meta.path("digest").asText("");
        if (!digest.startsWith("sha256:")) {
            throw new IOException("artifact " + meta.path("id").asText() + " has no sha256 digest");
        }
        return digest.substring("sha256:".length());
    }

    /** Moves a finished download into place; a concurrent download of the same digest may have won. */
    private static void publish(Path tmp, Path dir) throws IOException {
        Files.createDirectories(dir.getParent());
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException
                 | java.nio.file.DirectoryNotEmptyException e) {
            deleteTree(tmp);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
