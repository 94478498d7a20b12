package io.peftfoundry.jobapi.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.ControlAction;
import io.peftfoundry.contracts.event.JobControl;
import io.peftfoundry.contracts.event.JobRequested;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.resources.JobResources;
import io.peftfoundry.contracts.resources.ModelShape;
import io.peftfoundry.contracts.spec.AutoHyperparameters;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.contracts.spec.SpecValidationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.jobapi.auth.ApiKeys;
import io.peftfoundry.jobapi.mapping.OpenAiJobFields;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.jobapi.client.ArtifactStoreClient;
import io.peftfoundry.support.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.io.IOException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Job lifecycle on the API side: create (validate, idempotency, job row + outbox row), read, list, cancel, pause,
 * resume. Nothing here talks to Kafka: every message leaves through the outbox.
 */
@ApplicationScoped
public class JobService {

    private static final Logger LOG = Logger.getLogger(JobService.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String UNIQUE_VIOLATION = "23505";

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final ObjectMapper canonical;
    /** Reads a job body as {@link JobSpecs#parse} does: duplicate keys and trailing tokens are errors. */
    private final ObjectMapper strict;
    private final ArtifactStoreClient artifacts;
    private final OutboxRelay relay;
    private final MeterRegistry registry;
    private final WorkerFleet fleet;
    private final Map<String, Counter> createdCounters = new ConcurrentHashMap<>();
    private final Map<JobStatus, Counter> transitionCounters = new ConcurrentHashMap<>();

    /** A job and whether this request created it (201) or found it through its Idempotency-Key (200). */
    public record Created(JobRow job, boolean created) {
    }

    public JobService(DataSource dataSource, ObjectMapper mapper, ArtifactStoreClient artifacts, OutboxRelay relay,
                      MeterRegistry registry, WorkerFleet fleet) {
        this.fleet = fleet;
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.canonical = mapper.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
        this.strict = mapper.copy().enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.artifacts = artifacts;
        this.relay = relay;
        this.registry = registry;
    }

    public static String newJobId() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return "ftjob-" + HexFormat.of().formatHex(b);
    }

    // ---------------------------------------------------------------- create

    /**
     * Validates the spec and the artifacts it names (artifact-store answers are cached per key), then writes the job
     * row, its idempotency row and its {@code JobRequested} outbox row in one transaction. The job is
     * {@code validating_files} while this runs; what commits is the job as {@code queued}, so a failed validation leaves
     * nothing behind and an accepted POST costs one commit.
     */
    public Created create(Caller caller, String bearerKey, String body, String idempotencyKey) throws SQLException {
        JobSpec parsed = parseSpec(body == null ? "" : body, bearerKey);
        String requestHash = idempotencyKey == null ? null : canonicalHash(body);
        if (idempotencyKey != null) {
            Optional<JobRow> earlier = findByIdempotencyKey(caller.tenant(), idempotencyKey, requestHash);
            if (earlier.isPresent()) {
                return new Created(earlier.get(), false);
            }
        }
        String jobId = newJobId();
        List<FieldError> errors;
        try {
            errors = checkArtifacts(parsed, bearerKey);
        } catch (IOException e) {
            LOG.warnf("job %s: artifact-store could not be asked (%s); nothing queued", jobId, e.getMessage());
            throw new ProblemException(503, Problem.ABOUT_BLANK, "Service unavailable",
                    "artifact-store could not check the job's model and files (" + e.getMessage()
                            + "); nothing was queued, try again", null);
        }
        if (!errors.isEmpty()) {
            throw ProblemException.invalidSpec(errors);
        }
        JobSpec spec = AutoHyperparameters.resolve(parsed, trainingExamples(parsed, bearerKey));
        Placement.Needs needs = placementNeeds(spec, bearerKey);
        List<FieldError> refusals = Placement.refusals(spec, needs, fleet.live());
        if (!refusals.isEmpty()) {
            LOG.infof("job refused for tenant %s: no trainer worker can hold it: %s", caller.tenant(),
                    refusals.get(0).message());
            throw ProblemException.invalidSpec(refusals);
        }

        String specJson = JobSpecs.toJson(spec);
        String resourcesJson = json(resourcesColumn(needs));
        String requested = json(new JobRequested(jobId, caller.tenant(), 1, spec, null, needs.resources()));
        JobRow job;
        try {
            job = Db.inTransaction(dataSource, c -> {
                Instant createdAt = insertQueuedJob(c, jobId, caller.tenant(), spec, specJson, resourcesJson);
                if (idempotencyKey != null) {
                    try (PreparedStatement ps = c.prepareStatement(INSERT_IDEMPOTENCY_KEY)) {
                        ps.setString(1, caller.tenant());
                        ps.setString(2, idempotencyKey);
                        ps.setString(3, requestHash);
                        ps.setString(4, jobId);
                        ps.executeUpdate();
                    }
                }
                Outbox.add(c, Topics.JOBS_REQUESTED, jobId, requested);
                return new JobRow(jobId, caller.tenant(), JobStatus.QUEUED.wire(), specJson, 1, null, null, null,
                        null, null, 0, createdAt, null, null, null, resourcesJson);
            });
        } catch (SQLException e) {
            if (idempotencyKey != null && UNIQUE_VIOLATION.equals(e.getSQLState())) {
                // a concurrent request with the same key won the race: answer with its job (or 422)
                return new Created(findByIdempotencyKey(caller.tenant(), idempotencyKey, requestHash)
                        .orElseThrow(() -> e), false);
            }
            throw e;
        }
        relay.wakeUp();
        createdCounter(spec.method().type().wire()).increment();
        transitioned(JobStatus.QUEUED);
        LOG.infof("job %s created for tenant %s: %s on %s, training file %s", jobId, caller.tenant(),
                spec.method().type().wire(), spec.model(), spec.trainingFile());
        return new Created(job, true);
    }

    /**
     * The body as our job spec. OpenAI's equivalent fields ({@code method.type: supervised}, {@code n_epochs},
     * {@code learning_rate_multiplier}, see {@link OpenAiJobFields}) are mapped first; a body without them is parsed
     * exactly as sent. Errors name the fields the caller sent.
     */
    private JobSpec parseSpec(String body, String bearerKey) {
        JsonNode tree;
        try {
            tree = strict.readTree(body);
        } catch (JsonProcessingException e) {
            tree = null; // JobSpecs.parse says where the JSON breaks
        }
        OpenAiJobFields.Mapped mapped = tree == null ? null : OpenAiJobFields.map(tree);
        if (mapped == null || !mapped.changed()) {
            try {
                return JobSpecs.parse(body);
            } catch (SpecValidationException e) {
                throw ProblemException.invalidSpec(e.errors());
            }
        }
        JsonNode spec = mapped.spec();
        if (mapped.taskFromModel() && spec.path("model").isTextual()) {
            try {
                artifacts.model(spec.path("model").asText(), bearerKey).map(m -> m.path("model_type").asText(null))
                        .ifPresent(type -> ((ObjectNode) spec).put("task",
                                OpenAiJobFields.taskFromModel(DECODER_TYPES.contains(type))));
            } catch (IOException e) {
                // the artifact check below answers 503 for the same reason; the task stays the default meanwhile
                LOG.warnf("model %s: architecture unknown (%s); task left at its default", spec.path("model").asText(),
                        e.getMessage());
            }
        }
        List<FieldError> errors = new ArrayList<>(mapped.errors());
        try {
            JobSpec parsed = JobSpecs.parse(spec);
            if (errors.isEmpty()) {
                return parsed;
            }
        } catch (SpecValidationException e) {
            for (FieldError found : mapped.rename(e.errors())) {
                // a field the mapping already refused (say method.type dpo) is not reported twice
                if (mapped.errors().stream().noneMatch(m -> m.field().equals(found.field()))) {
                    errors.add(found);
                }
            }
        }
        throw ProblemException.invalidSpec(errors);
    }

    private static final String INSERT_QUEUED_JOB = "INSERT INTO jobs (id, tenant_id, status, spec, model, task, "
            + "method_type, training_file, validation_file, resources, created_at) "
            + "VALUES (?, ?, 'queued', ?::jsonb, ?, ?, ?, ?, ?, ?::jsonb, clock_timestamp()) RETURNING created_at";
    private static final String INSERT_IDEMPOTENCY_KEY = "INSERT INTO idempotency_keys "
            + "(tenant_id, idempotency_key, request_hash, job_id) VALUES (?, ?, ?, ?)";

    /** Inserts the validated job as {@code queued}; returns its {@code created_at}. */
    private static Instant insertQueuedJob(Connection c, String jobId, String tenant, JobSpec spec, String specJson,
                                           String resourcesJson) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_QUEUED_JOB)) {
            ps.setString(1, jobId);
            ps.setString(2, tenant);
            ps.setString(3, specJson);
            ps.setString(4, spec.model());
            ps.setString(5, spec.task().wire());
            ps.setString(6, spec.method().type().wire());
            ps.setString(7, spec.trainingFile());
            ps.setString(8, spec.validationFile());
            ps.setString(9, resourcesJson);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getTimestamp(1).toInstant();
            }
        }
    }

    private Counter createdCounter(String method) {
        return createdCounters.computeIfAbsent(method, m -> registry.counter("foundry.jobs.created", "method", m));
    }

    private Optional<JobRow> findByIdempotencyKey(String tenant, String key, String requestHash) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT request_hash, job_id FROM idempotency_keys WHERE tenant_id = ? AND idempotency_key = ?")) {
            ps.setString(1, tenant);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                if (!rs.getString(1).equals(requestHash)) {
                    throw new ProblemException(422, "https://peftfoundry.io/problems/idempotency-key-reused",
                            "Idempotency-Key reused", "Idempotency-Key '" + key + "' was used for job "
                            + rs.getString(2) + " with a different body; use a new key for a different job", null);
                }
                return load(c, rs.getString(2), false);
            }
        }
    }

    /**
     * The model's family and the job's estimated peak memory, from artifact-store's model object (the client's cache:
     * it was looked up a moment ago). An estimate needs the model's sizes; without them only the family counts.
     */
    private Placement.Needs placementNeeds(JobSpec spec, String bearerKey) {
        Optional<JsonNode> model;
        try {
            model = artifacts.model(spec.model(), bearerKey);
        } catch (IOException e) {
            model = Optional.empty();
        }
        String family = model.map(m -> m.path("family").asText(m.path("model_type").asText(null))).orElse(null);
        long examples;
        try {
            // the file was looked up a moment ago (checkArtifacts): the client's cache answers
            examples = artifacts.file(spec.trainingFile(), bearerKey).map(f -> f.path("line_count").asLong(0)).orElse(0L);
        } catch (IOException e) {
            examples = 0;
        }
        return Placement.needs(spec, family, model.flatMap(ModelShape::fromModelView), examples);
    }

    /** {@code jobs.resources}: {@code {"family", "memory_estimate": {...}, "estimated_seconds"}}. */
    private Map<String, Object> resourcesColumn(Placement.Needs needs) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("family", needs.family());
        m.put("memory_estimate", needs.estimate());
        m.put("estimated_seconds", needs.estimatedSeconds());
        return m;
    }

    /** {@code JobRequested.resources} from {@code jobs.resources} (null for jobs from before it existed). */
    private JobResources resourcesOf(JobRow j) {
        if (j.resourcesJson() == null) {
            return null;
        }
        try {
            JsonNode r = mapper.readTree(j.resourcesJson());
            JsonNode peak = r.path("memory_estimate").path("peak_bytes");
            JsonNode seconds = r.path("estimated_seconds");
            return new JobResources(r.path("family").asText(null), peak.isNumber() ? peak.asLong() : null,
                    seconds.isNumber() ? seconds.asDouble() : null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("jobs.resources of " + j.id() + " does not parse", e);
        }
    }

    /** The model, files and init adapter named by the spec, looked up with the caller's key. */
    private List<FieldError> checkArtifacts(JobSpec spec, String bearerKey) throws IOException {
        List<FieldError> errors = new ArrayList<>();
        Optional<JsonNode> model = artifacts.model(spec.model(), bearerKey);
        if (model.isEmpty()) {
            errors.add(new FieldError("model", "no model '" + spec.model()
                    + "' in artifact-store; GET /v1/models lists the backbones (id or name)"));
        } else {
            checkArchitecture(spec, model.get().path("model_type").asText(null), errors);
        }
        checkFile(spec.trainingFile(), "training_file", spec, model.orElse(null), bearerKey, errors);
        if (spec.validationFile() != null) {
            checkFile(spec.validationFile(), "validation_file", spec, model.orElse(null), bearerKey, errors);
        }
        if (spec.initAdapter() != null && artifacts.adapter(spec.initAdapter(), bearerKey).isEmpty()) {
            errors.add(new FieldError("init_adapter", "no adapter '" + spec.initAdapter()
                    + "' in artifact-store; GET /v1/adapters lists yours"));
        }
        return errors;
    }

    /** Decoder architectures: the ones peft-engine trains sft / continued_pretraining on. */
    static final java.util.Set<String> DECODER_TYPES = java.util.Set.of("gpt2", "llama", "mistral", "qwen2");

    /** Causal tasks need a decoder, classification an encoder. */
    static void checkArchitecture(JobSpec spec, String modelType, List<FieldError> errors) {
        if (modelType == null) {
            return;
        }
        boolean causal = spec.task() == io.peftfoundry.contracts.spec.Task.SFT
                || spec.task() == io.peftfoundry.contracts.spec.Task.CONTINUED_PRETRAINING;
        boolean decoder = DECODER_TYPES.contains(modelType);
        if (causal && !decoder) {
            errors.add(new FieldError("model", "task '" + spec.task().wire() + "' needs a decoder model ("
                    + String.join(", ", DECODER_TYPES) + "); '" + spec.model() + "' is a '" + modelType + "' model"));
        } else if (!causal && decoder) {
            errors.add(new FieldError("model", "task '" + spec.task().wire() + "' needs an encoder model; '"
                    + spec.model() + "' is a '" + modelType + "' decoder (use task sft or continued_pretraining)"));
        }
    }

    /**
     * Chat conversations ({@code chat_examples} on the file, sft only) are rendered by the model's chat template:
     * a model that artifact-store reports without one ({@code chat_template: false}) is refused naming the field.
     */
    static void checkChatData(String field, JsonNode file, JsonNode model, List<FieldError> errors) {
        long chats = file.path("chat_examples").asLong(0);
        if (chats > 0 && model != null && model.has("chat_template") && !model.get("chat_template").asBoolean()) {
            errors.add(new FieldError(field, "file '" + file.path("id").asText() + "' holds " + chats + " chat conversation(s)"
                    + " ({\"messages\": …}) but model '" + model.path("name").asText(model.path("id").asText())
                    + "' has no chat template (chat_template.jinja or tokenizer_config.json \"chat_template\") to render them"));
        }
    }

    private void checkFile(String id, String field, JobSpec spec, JsonNode model, String bearerKey, List<FieldError> errors)
            throws IOException {
        Optional<JsonNode> file = artifacts.file(id, bearerKey);
        if (file.isEmpty()) {
            errors.add(new FieldError(field, "no file '" + id + "'; upload it with POST /v1/files on artifact-store"));
            return;
        }
        String task = file.get().path("task").asText(null);
        if (task != null && !task.equals(spec.task().wire())) {
            errors.add(new FieldError(field, "file '" + id + "' holds a '" + task + "' dataset but the job's task is '"
                    + spec.task().wire() + "'"));
            return;
        }
        checkChatData(field, file.get(), model, errors);
    }

    /**
     * Examples in the training file for the "auto" hyperparameters: artifact-store's {@code line_count} (one JSONL
     * example a line); 0 (static defaults) when the file does not say. The file was looked up a moment ago in
     * {@link #checkArtifacts}, so this is the client's cache.
     */
    private long trainingExamples(JobSpec spec, String bearerKey) {
        if (spec.hyperparameters().auto() == null || spec.hyperparameters().auto().isEmpty()) {
            return 0;
        }
        try {
            return artifacts.file(spec.trainingFile(), bearerKey).map(f -> f.path("line_count").asLong(0)).orElse(0L);
        } catch (IOException e) {
            LOG.warnf("training file %s: size unknown (%s); auto hyperparameters take their static defaults",
                    spec.trainingFile(), e.getMessage());
            return 0;
        }
    }

    /** SHA-256 of the body with object keys sorted, so formatting and key order do not matter. */
    String canonicalHash(String body) {
        String text = body == null ? "" : body;
        try {
            Object tree = mapper.readValue(text, Object.class);
            text = canonical.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            // not JSON: the spec parse has already refused it, keep the raw text
        }
        return ApiKeys.sha256Hex(text);
    }

    // ---------------------------------------------------------------- read

    /** The tenant's job, or 404 (also for another tenant's job). */
    public JobRow get(Caller caller, String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return load(c, jobId, false).filter(j -> j.tenant().equals(caller.tenant()))
                    .orElseThrow(() -> ProblemException.notFound("fine-tuning job", jobId));
        }
    }

    /** One page of the tenant's jobs, newest first; the cursor is a keyset on (created_at, id). */
    public Page<JobRow> list(Caller caller, PageRequest page) throws SQLException {
        String after = page.after();
        String sql = "SELECT " + JobRow.COLUMNS + " FROM jobs WHERE tenant_id = ?"
                + (after == null ? "" : " AND (created_at, id) < (SELECT created_at, id FROM jobs WHERE id = ? AND tenant_id = ?)")
                + " ORDER BY created_at DESC, id DESC LIMIT ?";
        try (Connection c = dataSource.getConnection()) {
            if (after != null && load(c, after, false).filter(j -> j.tenant().equals(caller.tenant())).isEmpty()) {
                throw page.unknownAfter("fine-tuning job");
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setString(i++, caller.tenant());
                if (after != null) {
                    ps.setString(i++, after);
                    ps.setString(i++, caller.tenant());
                }
                ps.setInt(i, page.fetchSize());
                List<JobRow> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(JobRow.read(rs));
                    }
                }
                return Page.of(rows, page);
            }
        }
    }

    /** The job row whoever owns it (for services acting on jobs they found by id, e.g. a sweep's children). */
    public static Optional<JobRow> loadRow(Connection c, String jobId) throws SQLException {
        return load(c, jobId, false);
    }

    /** The rows of these jobs in one query, by id (ids with no row are left out). */
    public static Map<String, JobRow> loadRows(Connection c, Collection<String> jobIds) throws SQLException {
        Map<String, JobRow> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + JobRow.COLUMNS + " FROM jobs WHERE id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("text", jobIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    JobRow row = JobRow.read(rs);
                    out.put(row.id(), row);
                }
            }
        }
        return out;
    }

    static Optional<JobRow> load(Connection c, String jobId, boolean forUpdate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + JobRow.COLUMNS + " FROM jobs WHERE id = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(JobRow.read(rs)) : Optional.empty();
            }
        }
    }

    // ---------------------------------------------------------------- control

    /**
     * Queued, paused (or still validating) jobs are cancelled at once; a running job is asked to stop
     * ({@code JobControl{cancel}}) and stays running until the worker reports {@code cancelled}; a finished job → 409.
     */
    public JobRow cancel(Caller caller, String jobId) throws SQLException {
        JobRow job = Db.inTransaction(dataSource, c -> {
            JobRow j = lockOwned(c, caller, jobId);
            JobStatus status = JobStatus.fromWire(j.status());
            if (status.isTerminal()) {
                throw ProblemException.conflict("job " + jobId + " is already " + j.status() + "; it cannot be cancelled");
            }
            // also sent for queued jobs: a worker that has already taken the request drops it
            Outbox.add(c, Topics.JOBS_CONTROL, jobId, json(new JobControl(jobId, ControlAction.CANCEL)));
            if (status != JobStatus.RUNNING) {
                setStatus(c, jobId, JobStatus.CANCELLED);
            }
            return load(c, jobId, false).orElseThrow();
        });
        relay.wakeUp();
        if (JobStatus.CANCELLED.wire().equals(job.status())) {
            transitioned(JobStatus.CANCELLED);
        }
        LOG.infof("job %s: cancel requested by tenant %s (now %s)", jobId, caller.tenant(), job.status());
        return job;
    }

    /** A running job is asked to checkpoint and stop ({@code JobControl{pause}}); the worker reports {@code paused}. */
    public JobRow pause(Caller caller, String jobId) throws SQLException {
        JobRow job = Db.inTransaction(dataSource, c -> {
            JobRow j = lockOwned(c, caller, jobId);
            if (!JobStatus.RUNNING.wire().equals(j.status())) {
                throw ProblemException.conflict("job " + jobId + " is " + j.status() + "; only a running job can be paused");
            }
            Outbox.add(c, Topics.JOBS_CONTROL, jobId, json(new JobControl(jobId, ControlAction.PAUSE)));
            return j;
        });
        relay.wakeUp();
        LOG.infof("job %s: pause requested by tenant %s", jobId, caller.tenant());
        return job;
    }

    /** A paused job is queued again as attempt + 1, resuming from its latest recorded checkpoint. */
    public JobRow resume(Caller caller, String jobId) throws SQLException {
        JobRow job = Db.inTransaction(dataSource, c -> {
            JobRow j = lockOwned(c, caller, jobId);
            if (!JobStatus.PAUSED.wire().equals(j.status())) {
                throw ProblemException.conflict("job " + jobId + " is " + j.status() + "; only a paused job can be resumed");
            }
            int attempt = j.attempt() + 1;
            JobSpec spec = JobSpecs.parse(j.specJson());
            String checkpoint = latestCheckpoint(c, jobId).orElse(j.checkpointId());
            Outbox.add(c, Topics.JOBS_REQUESTED, jobId,
                    json(new JobRequested(jobId, j.tenant(), attempt, spec, checkpoint, resourcesOf(j))));
            try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET status = 'queued', attempt = ?, "
                    + "checkpoint_id = ?, estimated_finish = NULL, updated_at = now() WHERE id = ?")) {
                ps.setInt(1, attempt);
                ps.setString(2, checkpoint);
                ps.setString(3, jobId);
                ps.executeUpdate();
            }
            return load(c, jobId, false).orElseThrow();
        });
        relay.wakeUp();
        transitioned(JobStatus.QUEUED);
        LOG.infof("job %s: resumed as attempt %d from checkpoint %s", jobId, job.attempt(), job.checkpointId());
        return job;
    }

    /** The checkpoint of the job's highest-seq checkpoint event (stored even when it arrived out of order). */
    private static Optional<String> latestCheckpoint(Connection c, String jobId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT data->>'checkpoint_id' FROM job_events "
                + "WHERE job_id = ? AND type = 'checkpoint' AND data->>'checkpoint_id' IS NOT NULL ORDER BY seq DESC LIMIT 1")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private JobRow lockOwned(Connection c, Caller caller, String jobId) throws SQLException {
        return load(c, jobId, true).filter(j -> j.tenant().equals(caller.tenant()))
                .orElseThrow(() -> ProblemException.notFound("fine-tuning job", jobId));
    }

    private static void setStatus(Connection c, String jobId, JobStatus status) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET status = ?, updated_at = now(), "
                + "finished_at = CASE WHEN ? THEN ? ELSE finished_at END WHERE id = ?")) {
            ps.setString(1, status.wire());
            ps.setBoolean(2, status.isTerminal());
            ps.setTimestamp(3, Timestamp.from(Instant.now()));
            ps.setString(4, jobId);
            ps.executeUpdate();
        }
    }

    void transitioned(JobStatus status) {
        transitionCounters.computeIfAbsent(status,
                st -> registry.counter("foundry.jobs.transitions", "status", st.wire())).increment();
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
