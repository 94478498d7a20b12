package io.peftfoundry.artifacts.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.artifacts.storage.Digests;
import io.peftfoundry.artifacts.validation.DatasetReport;
import io.peftfoundry.artifacts.validation.DatasetTask;
import io.peftfoundry.artifacts.validation.DatasetValidator;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

/** Datasets ({@code /v1/files}): validated against their task format before anything is stored. */
@ApplicationScoped
public class FileService {

    private static final Logger LOG = Logger.getLogger(FileService.class);
    public static final Set<String> PURPOSES = Set.of("fine-tune", "eval");

    private final ArtifactStorage storage;
    private final ManifestRepository manifests;
    private final DatasetValidator validator;
    private final ObjectMapper mapper;

    public FileService(ArtifactStorage storage, ManifestRepository manifests, ArtifactsConfig config, ObjectMapper mapper) {
        this.storage = storage;
        this.manifests = manifests;
        this.mapper = mapper;
        this.validator = new DatasetValidator(mapper, config.maxReportedErrors());
    }

    public Artifact upload(Caller caller, Path file, long size, String fileName, String purpose, String task,
                           String onBehalfOf) throws IOException {
        String tenant = caller.owningTenant(onBehalfOf);
        if (purpose == null || !PURPOSES.contains(purpose)) {
            throw ProblemException.badRequest("invalid-field", "'purpose' must be one of fine-tune, eval",
                    List.of(new FieldError("purpose", purpose == null ? "missing" : "unknown value '" + purpose + "'")));
        }
        DatasetTask declared = null;
        if (task != null && !task.isBlank()) {
            declared = DatasetTask.fromWire(task.trim()).orElseThrow(() -> ProblemException.badRequest("invalid-field",
                    "'task' must be one of " + DatasetTask.allowed(),
                    List.of(new FieldError("task", "unknown value '" + task + "'"))));
        }
        storage.checkUploadSize(size);

        long started = System.nanoTime();
        DatasetReport report;
        Digests.DigestAndSize digest;
        try (Digests.HashingInputStream in = new Digests.HashingInputStream(Files.newInputStream(file))) {
            report = validator.validate(in, declared);
            in.transferTo(java.io.OutputStream.nullOutputStream());
            digest = in.result();
        }
        LOG.debugf("validated and hashed %d bytes (%d lines) in %d ms", digest.size(), report.lineCount(),
                (System.nanoTime() - started) / 1_000_000);
        if (!report.valid()) {
            LOG.infof("rejected dataset upload for tenant %s: %d fault(s)", tenant, report.totalErrors());
            String more = report.totalErrors() > report.errors().size()
                    ? " (showing the first " + report.errors().size() + ")" : "";
            throw ProblemException.badRequest("invalid-dataset",
                    "the file is not a valid " + (report.task() == null ? "dataset" : report.task().wireName() + " dataset")
                            + ": " + report.totalErrors() + " fault(s)" + more + "; fix the listed lines and upload again",
                    report.errors());
        }
        String mediaType = report.plainText() ? "text/plain" : "application/jsonl";
        Artifact a = new Artifact(ArtifactIds.next("file"), tenant, Artifact.DATASET, displayName(fileName),
                digest.sha256Hex(), digest.size(), mediaType, annotations(report),
                OffsetDateTime.now(ZoneOffset.UTC), purpose, report.task().wireName(), report.lineCount(),
                report.labels(), null, null, null);
        return storage.store(a, file);
    }

    /** {@code chat_examples}: how many sft lines are {@code {"messages": …}} conversations (job-api checks the model has a template). */
    private com.fasterxml.jackson.databind.node.ObjectNode annotations(DatasetReport report) {
        com.fasterxml.jackson.databind.node.ObjectNode n = mapper.createObjectNode();
        if (report.chatExamples() > 0) {
            n.put("chat_examples", report.chatExamples());
        }
        return n;
    }

    public Page<Artifact> list(Caller caller, PageRequest page) {
        return manifests.list(Artifact.DATASET, caller, page);
    }

    public Artifact get(Caller caller, String id) {
        return manifests.find(Artifact.DATASET, id, caller).orElseThrow(() -> ProblemException.notFound("file", id));
    }

    /** The user's file name, kept for display only (never a key or path). */
    static String displayName(String name) {
        if (name == null || name.isBlank()) {
            return "upload";
        }
        String base = name.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        return base.length() > 255 ? base.substring(0, 255) : base;
    }
}
