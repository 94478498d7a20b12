package io.peftfoundry.devstack.s3;

import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.options.PutOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * S3Proxy's filesystem store writes a PUT's body to {@code <object>-<uuid>} beside the object and moves it into place
 * at the end; when the body breaks off (the client went away, or abandoned the PUT on purpose before its last bytes)
 * it leaves that file behind. It then shows in the bucket as an object of its own, without the metadata S3Proxy
 * expects, so a listing that reaches it fails with HTTP 500. A real S3 keeps nothing of a broken-off PUT; this wrapper
 * makes the dev server do the same: when a put fails, the temporary files of that object that appeared during it are
 * deleted. (A second put of the same object running at that moment would lose its temporary file and fail; puts of
 * one object at once happen only for identical content, and this is a dev server.)
 */
final class TemporaryFileCleaningBlobStore extends ForwardingBlobStore {

    private static final Logger LOG = LoggerFactory.getLogger(TemporaryFileCleaningBlobStore.class);
    private static final Pattern UUID_SUFFIX = Pattern.compile("-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private final Path baseDir;

    TemporaryFileCleaningBlobStore(BlobStore delegate, Path baseDir) {
        super(delegate);
        this.baseDir = baseDir;
    }

    @Override
    public String putBlob(String container, Blob blob) {
        return putBlob(container, blob, PutOptions.NONE);
    }

    @Override
    public String putBlob(String container, Blob blob, PutOptions options) {
        String name = blob.getMetadata().getName();
        Set<Path> before = temporaries(container, name);
        try {
            return super.putBlob(container, blob, options);
        } catch (RuntimeException e) {
            for (Path leftover : temporaries(container, name)) {
                if (!before.contains(leftover)) {
                    try {
                        Files.deleteIfExists(leftover);
                        LOG.info("deleted {}, left behind by a put of {} that failed: {}", leftover, name, e.getMessage());
                    } catch (IOException io) {
                        LOG.warn("could not delete {}: {}", leftover, io.getMessage());
                    }
                }
            }
            throw e;
        }
    }

    /** The files {@code <name>-<uuid>} beside the object (S3Proxy's temporaries for it). */
    private Set<Path> temporaries(String container, String name) {
        Set<Path> found = new HashSet<>();
        if (name == null || container == null) {
            return found;
        }
        Path containerDir = baseDir.resolve(container).normalize();
        Path object = containerDir.resolve(name).normalize();
        Path dir = object.getParent();
        if (!object.startsWith(containerDir) || dir == null || !Files.isDirectory(dir)) {
            return found;
        }
        String prefix = object.getFileName().toString();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> {
                String f = p.getFileName().toString();
                return f.startsWith(prefix) && UUID_SUFFIX.matcher(f.substring(prefix.length())).matches();
            }).forEach(found::add);
        } catch (IOException e) {
            LOG.debug("cannot list {}: {}", dir, e.getMessage());
        }
        return found;
    }
}
