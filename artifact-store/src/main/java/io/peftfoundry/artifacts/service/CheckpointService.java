package io.peftfoundry.artifacts.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.client.JobOwnership;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.artifacts.storage.Digests;
import io.peftfoundry.artifacts.validation.ZipLayout;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Training checkpoints, stored per job and attempt. After each upload the job keeps only its
 * newest {@code foundry.artifacts.checkpoints.keep-last} checkpoints (ordered by attempt, then step);
 * blobs no manifest references any more are deleted.
 */
@ApplicationScoped
public class CheckpointService {

    private static final Logger LOG = Logger.getLogger(CheckpointService.class);

    private final ArtifactStorage storage;
    private final ManifestRepository manifests;
    private final ObjectMapper mapper;
    private final int keepLast;
    private final JobOwnership ownership;

    public CheckpointService(ArtifactStorage storage, ManifestRepository manifests, ObjectMapper mapper,
                             ArtifactsConfig config, JobOwnership ownership) {
        this.ownership = ownership;
        this.storage = storage;
        this.manifests = manifests;
        this.mapper = mapper;
        this.keepLast = Math.max(1, config.checkpoints().keepLast());
    }

    /** Stores a checkpoint of {@code jobId}, which must be the owning tenant's job (asked of job-api). */
    public Artifact upload(Caller caller, String bearerKey, Path zip, long size, String jobId, String attempt, String step,
                           String onBehalfOf) throws IOException {
        String tenant = caller.owningTenant(onBehalfOf);
        List<FieldError> errors = new ArrayList<>();
        if (jobId == null || jobId.isBlank()) {
            errors.add(new FieldError("job_id", "missing"));
        }
        Integer attemptNo = parse(attempt, "attempt", errors);
        Long stepNo = parse(step, "step", errors) == null ? null : Long.parseLong(step.trim());
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("invalid-field", "checkpoint upload needs job_id, attempt (≥ 0) and step (≥ 0)", errors);
        }
        ownership.requireOwned(caller, bearerKey, jobId.trim(), tenant);
        storage.checkUploadSize(size);
        try (ZipLayout ignored = ZipLayout.open(zip)) {
            // a readable zip with safe entry names is all a checkpoint must be
        } catch (ZipLayout.InvalidArchiveException e) {
            throw ProblemException.badRequest("invalid-archive", e.getMessage());
        }
        Digests.DigestAndSize digest = Digests.of(zip);
        Artifact a = new Artifact(ArtifactIds.next("ckpt"), tenant, Artifact.CHECKPOINT,
                "checkpoint-" + jobId + "-" + attemptNo + "-" + stepNo, digest.sha256Hex(), digest.size(), "application/zip",
                mapper.createObjectNode(), OffsetDateTime.now(ZoneOffset.UTC), null, null, null, null,
                jobId.trim(), attemptNo, stepNo);
        storage.store(a, zip);
        prune(tenant, jobId.trim());
        return a;
    }

    private void prune(String tenant, String jobId) throws IOException {
        List<Artifact> all = manifests.checkpoints(jobId, new Caller(tenant, null, false));
        if (all.size() > keepLast) {
            List<Artifact> old = all.subList(keepLast, all.size());
            LOG.infof("job %s: pruning %d checkpoint(s), keeping the newest %d", jobId, old.size(), keepLast);
            storage.delete(List.copyOf(old));
        }
    }

    private static Integer parse(String value, String field, List<FieldError> errors) {
        if (value == null || value.isBlank()) {
            errors.add(new FieldError(field, "missing"));
            return null;
        }
        try {
            long v = Long.parseLong(value.trim());
            if (v < 0 || v > Integer.MAX_VALUE) {
                errors.add(new FieldError(field, "out of range: " + value));
                return null;
            }
            return (int) v;
        } catch (NumberFormatException e) {
            errors.add(new FieldError(field, "not an integer: '" + value + "'"));
            return null;
        }
    }

    /** The job's checkpoints as {@code tenant} sees them (a platform key naming the job's tenant), newest first. */
    public List<Artifact> list(Caller caller, String jobId, String tenant) {
        return list(tenant == null || tenant.isBlank() ? caller : caller.actingFor(caller.owningTenant(tenant)), jobId);
    }

    public List<Artifact> list(Caller caller, String jobId) {
        if (jobId == null || jobId.isBlank()) {
            throw ProblemException.badRequest("invalid-field", "query parameter job_id is required",
                    List.of(new FieldError("job_id", "missing")));
        }
        return manifests.checkpoints(jobId, caller);
    }

    public Artifact latest(Caller caller, String jobId, String tenant) {
        return list(caller, jobId, tenant).stream().findFirst()
                .orElseThrow(() -> ProblemException.typed(404, "not-found", "Not found", "job '" + jobId + "' has no checkpoints"));
    }

    public Artifact get(Caller caller, String id) {
        return manifests.find(Artifact.CHECKPOINT, id, caller).orElseThrow(() -> ProblemException.notFound("checkpoint", id));
    }
}
