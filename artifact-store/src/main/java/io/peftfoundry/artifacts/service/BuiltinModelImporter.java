package io.peftfoundry.artifacts.service;

import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.artifacts.storage.BlobStore;
import io.peftfoundry.engine.importer.EncoderImporter;
import io.peftfoundry.engine.importer.PretrainedEncoder;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Registers the built-in models at first start: peft-engine imports each encoder from the ONNX in its
 * jar into a Hugging Face layout directory, which is zipped and registered as a model owned by
 * {@code _builtin} under its peft-engine name; the demo decoder ({@link BuiltinDecoder}) is copied from this
 * service's own jar. Runs in the background (the service is usable
 * meanwhile), logs progress, and skips models already registered, so restarts are cheap.
 */
@ApplicationScoped
public class BuiltinModelImporter {

    private static final Logger LOG = Logger.getLogger(BuiltinModelImporter.class);

    private final ModelService models;
    private final ArtifactStorage storage;
    private final BlobStore blobs;
    private final ArtifactsConfig config;
    private volatile Thread worker;
    private volatile boolean done;

    public BuiltinModelImporter(ModelService models, ArtifactStorage storage, BlobStore blobs, ArtifactsConfig config) {
        this.models = models;
        this.storage = storage;
        this.blobs = blobs;
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        if (!config.importBuiltinModels()) {
            LOG.info("built-in model import disabled (foundry.artifacts.import-builtin-models=false)");
            done = true;
            return;
        }
        worker = new Thread(this::importAll, "builtin-model-import");
        worker.setDaemon(true);
        worker.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        Thread t = worker;
        if (t != null) {
            t.interrupt();
        }
    }

    /** True once every configured built-in model is registered (or import is disabled). */
    public boolean done() {
        return done;
    }

    void importAll() {
        try {
            blobs.ensureBucket();
        } catch (IOException e) {
            LOG.warnf("built-in model import skipped: S3 not reachable (%s); it runs again at next start", e.getMessage());
            return;
        }
        int failed = 0;
        for (String name : config.builtinModels()) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            try {
                java.util.Optional<BuiltinDecoder> decoder = BuiltinDecoder.byName(name.trim());
                if (decoder.isPresent()) {
                    importDecoder(decoder.get());
                } else {
                    importOne(PretrainedEncoder.byName(name.trim()));
                }
            } catch (Exception e) {
                failed++;
                LOG.errorf(e, "built-in model %s: import failed", name);
            }
        }
        done = failed == 0;
        LOG.infof("built-in models: %s", failed == 0 ? "all registered" : failed + " failed (retried at next start)");
    }

    private void importOne(PretrainedEncoder encoder) throws IOException {
        if (models.builtin(encoder.id).isPresent()) {
            LOG.infof("built-in model %s already registered; skipping", encoder.id);
            return;
        }
        LOG.infof("built-in model %s: importing from %s", encoder.id, encoder.source);
        Path dir = Files.createTempDirectory(storage.workDir(), "import-" + encoder.id + "-");
        Path zip = storage.workDir().resolve(dir.getFileName() + ".zip");
        try {
            int[] lastTenth = {-1};
            EncoderImporter.importTo(encoder, dir, (phase, doneBytes, total) -> {
                int tenth = total > 0 ? (int) (doneBytes * 10 / total) : 0;
                if (tenth != lastTenth[0]) {
                    lastTenth[0] = tenth;
                    LOG.infof("built-in model %s: %s %d%%", encoder.id, phase, tenth * 10);
                }
            });
            zipDirectory(dir, zip);
            Artifact a = models.register(ManifestRepository.BUILTIN_TENANT, zip, Files.size(zip), encoder.id,
                    java.util.Map.of("license", encoder.license, "source", encoder.source, "builtin", "true"));
            LOG.infof("built-in model %s registered as %s (%d bytes)", encoder.id, a.id(), a.size());
        } finally {
            deleteTree(dir);
            Files.deleteIfExists(zip);
        }
    }

    private void importDecoder(BuiltinDecoder decoder) throws IOException {
        if (models.builtin(decoder.name()).isPresent()) {
            LOG.infof("built-in model %s already registered; skipping", decoder.name());
            return;
        }
        Path dir = Files.createTempDirectory(storage.workDir(), "import-" + decoder.name() + "-");
        Path zip = storage.workDir().resolve(dir.getFileName() + ".zip");
        try {
            decoder.copyTo(dir);
            zipDirectory(dir, zip);
            Artifact a = models.register(ManifestRepository.BUILTIN_TENANT, zip, Files.size(zip), decoder.name(),
                    decoder.annotations());
            LOG.infof("built-in model %s registered as %s (%d bytes; %s)", decoder.name(), a.id(), a.size(), decoder.source());
        } finally {
            deleteTree(dir);
            Files.deleteIfExists(zip);
        }
    }

    static void zipDirectory(Path dir, Path zip) throws IOException {
        try (OutputStream fileOut = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(fileOut);
             Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new ZipEntry(dir.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
