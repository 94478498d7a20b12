package io.peftfoundry.artifacts.service;

import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.artifacts.storage.BlobStore;
import io.peftfoundry.artifacts.storage.Digests;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Stores manifest + blob together and reads blobs back through a digesting stream ({@link #openDigesting}); what was
 * read is compared with the manifest ({@link #checkIntegrity}) — see {@code rest/Downloads} for how a mismatch is
 * never served as a complete body.
 */
@ApplicationScoped
public class ArtifactStorage {

    private static final Logger LOG = Logger.getLogger(ArtifactStorage.class);

    private final BlobStore blobs;
    private final ManifestRepository manifests;
    private final Path workDir;
    private final long maxUploadBytes;
    private final int verifyTailBytes;

    public ArtifactStorage(BlobStore blobs, ManifestRepository manifests, ArtifactsConfig config) throws IOException {
        this.blobs = blobs;
        this.manifests = manifests;
        this.workDir = Path.of(config.workDir());
        this.maxUploadBytes = config.maxUploadBytes();
        this.verifyTailBytes = config.verifyTailBytes();
        Files.createDirectories(workDir);
    }

    /** foundry.artifacts.verify-tail-bytes: the tail of a download held back until it is verified (rest/Downloads). */
    public int verifyTailBytes() {
        return verifyTailBytes;
    }

    public Path workDir() {
        return workDir;
    }

    /** 413 when an upload is over foundry.artifacts.max-upload-bytes. */
    public void checkUploadSize(long size) {
        if (size > maxUploadBytes) {
            throw ProblemException.typed(413, "upload-too-large", "Payload too large",
                    "the upload is " + size + " bytes; the limit (foundry.artifacts.max-upload-bytes) is "
                            + maxUploadBytes + " bytes");
        }
    }

    /** Puts the file's blob (unless an identical one is stored) and inserts the manifest, under a digest lock. */
    public Artifact store(Artifact manifest, Path file) throws IOException {
        return store(manifest, file, null);
    }

    /** A put of the blob while it is received (see {@link BlobStore#beginPut}), or empty when there is nothing to send. */
    public java.util.Optional<BlobStore.PendingPut> beginPut(String sha256Hex, long size, String contentType) throws IOException {
        return blobs.beginPut(sha256Hex, size, contentType);
    }

    /**
     * As {@link #store(Artifact, Path)}; with {@code streamed} (the put that already carries all but the last bytes of
     * the verified blob) the blob is completed by finishing that put, under the same digest lock.
     */
    public Artifact store(Artifact manifest, Path file, BlobStore.PendingPut streamed) throws IOException {
        return manifests.withDigestLock(manifest.digest(), () -> {
            long started = System.nanoTime();
            boolean uploaded;
            if (streamed != null) {
                try {
                    streamed.finish();
                    uploaded = true;
                } catch (IOException e) {
                    LOG.warnf("put of %s while receiving failed at its end (%s); putting it from the work file instead",
                            manifest.digest(), e.getMessage());
                    uploaded = blobs.putIfAbsent(manifest.digest(), file, manifest.size(), manifest.mediaType());
                }
            } else {
                uploaded = blobs.putIfAbsent(manifest.digest(), file, manifest.size(), manifest.mediaType());
            }
            manifests.insert(manifest);
            LOG.infof("stored %s %s for tenant %s: %d bytes, sha256 %s (%s, %d ms)", manifest.kind(), manifest.id(),
                    manifest.tenant(), manifest.size(), manifest.digest(),
                    streamed != null ? "new blob, sent while received" : uploaded ? "new blob" : "blob already present",
                    (System.nanoTime() - started) / 1_000_000);
            return manifest;
        });
    }

    /** Deletes manifests and, when no manifest references it any more, the blob. */
    public void delete(List<Artifact> artifacts) throws IOException {
        for (Artifact a : artifacts) {
            manifests.withDigestLock(a.digest(), () -> {
                if (!manifests.deleteAndCheckReferenced(a.id(), a.digest())) {
                    blobs.delete(a.digest());
                }
                return null;
            });
            LOG.infof("deleted %s %s (job %s, attempt %s, step %s)", a.kind(), a.id(), a.jobId(), a.attempt(), a.step());
        }
    }

    /** The blob as a stream that digests what it reads; {@link #checkIntegrity} compares the result with the manifest. */
    public Digests.HashingInputStream openDigesting(Artifact a) throws IOException {
        return new Digests.HashingInputStream(blobs.open(a.digest()));
    }

    /** Throws the 500 blob-integrity problem (and logs) when what was read is not what the manifest recorded. */
    public void checkIntegrity(Artifact a, Digests.DigestAndSize got) {
        if (got.size() != a.size() || !got.sha256Hex().equals(a.digest())) {
            LOG.errorf("integrity failure on %s %s: manifest sha256 %s size %d, stored blob sha256 %s size %d",
                    a.kind(), a.id(), a.digest(), a.size(), got.sha256Hex(), got.size());
            throw ProblemException.typed(500, "blob-integrity", "Stored content is corrupted",
                    "the stored content of " + a.id() + " does not match its recorded sha-256/size; it was not served."
                            + " Re-upload the artifact or contact the operator");
        }
    }

    public String presignedUrl(Artifact a, java.time.Duration expiry) throws IOException {
        return blobs.presignedGet(a.digest(), expiry, a.name());
    }
}
