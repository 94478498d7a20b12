package io.peftfoundry.jobapi.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.SpecValidationException;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.jobapi.service.JobRow;
import io.peftfoundry.jobapi.service.JobService;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Sweeps: a set of ordinary jobs (the children) made from one base spec, ranked by a validation metric, with
 * hopeless children stopped early by {@link SuccessiveHalving}. Children are created through {@link JobService} with
 * the caller's own key, so tenancy, validation, quotas and priorities apply to each as to any job; their data and
 * model are the base's, so eval-service trains one full fine-tune baseline for all of them (its baseline key is
 * model, data digests and task). A sweep's status is derived from its children's: running while any is not
 * terminal, then succeeded when at least one child succeeded, else failed; cancelled when cancelled.
 */
@ApplicationScoped
public class SweepService {

    private static final Logger LOG = Logger.getLogger(SweepService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DataSource dataSource;
    private final JobService jobs;
    private final ObjectMapper mapper;
    private ScheduledExecutorService halving;

    public SweepService(DataSource dataSource, JobService jobs, ObjectMapper mapper) {
        this.dataSource = dataSource;
        this.jobs = jobs;
        this.mapper = mapper;
    }

    void start(@Observes StartupEvent e) {
        halving = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sweep-halving");
            t.setDaemon(true);
            return t;
        });
        halving.scheduleWithFixedDelay(this::halveAll, 2, 2, TimeUnit.SECONDS);
    }

    void stop(@Observes ShutdownEvent e) {
        if (halving != null) {
            halving.shutdownNow();
        }
    }

    /** One child as stored: its trial number, job and parameters, and whether successive halving stopped it. */
    record ChildRow(int trial, String jobId, String paramsJson, int judgedRungs, String stopReason) {}

    record SweepRow(String id, String tenant, String requestJson, String metric, boolean higherIsBetter,
                    boolean earlyStopping, boolean cancelled, Instant createdAt) {}

    // ---------------------------------------------------------------- create

    public ObjectNode create(Caller caller, String bearerKey, String body) throws SQLException {
        JsonNode request;
        try {
            request = mapper.readTree(body == null ? "" : body);
        } catch (Exception e) {
            throw ProblemException.badRequest("the sweep is not valid JSON: " + e.getMessage());
        }
        SweepPlan.Plan plan;
        try {
            plan = SweepPlan.of(request);
        } catch (SpecValidationException e) {
            throw ProblemException.invalidSpec(e.errors());
        }
        if (plan.trials().isEmpty()) {
            throw ProblemException.invalidSpec(List.of(new FieldError("grid", "the sweep has no children")));
        }
        String sweepId = newSweepId();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO"
                + " sweeps (id, tenant_id, request, metric, higher_is_better, early_stopping)"
                + " VALUES (?, ?, ?::jsonb, ?, ?, ?)")) {
            ps.setString(1, sweepId);
            ps.setString(2, caller.tenant());
            ps.setString(3, request.toString());
            ps.setString(4, plan.metric());
            ps.setBoolean(5, plan.higherIsBetter());
            ps.setBoolean(6, plan.earlyStopping());
            ps.executeUpdate();
        }
        List<String> created = new ArrayList<>();
        try {
            for (SweepPlan.Trial t : plan.trials()) {
                ObjectNode spec = t.spec();
                ObjectNode metadata = spec.has("metadata") && spec.get("metadata").isObject()
                        ? (ObjectNode) spec.get("metadata") : spec.putObject("metadata");
                metadata.put("sweep_id", sweepId);
                metadata.put("sweep_trial", Integer.toString(t.index()));
                JobRow job = jobs.create(caller, bearerKey, spec.toString(), sweepId + "-trial-" + t.index()).job();
                created.add(job.id());
                try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO sweep_children (sweep_id, trial, job_id, params) VALUES (?, ?, ?, ?::jsonb)")) {
                    ps.setString(1, sweepId);
                    ps.setInt(2, t.index());
                    ps.setString(3, job.id());
                    ps.setString(4, mapper.valueToTree(t.params()).toString());
                    ps.executeUpdate();
                }
            }
        } catch (RuntimeException | SQLException e) {
            // a child was refused (its spec or files) or the store failed: stop what was queued, keep nothing half-made
            LOG.warnf("sweep %s: creating child %d failed (%s); cancelling the %d created", sweepId, created.size(),
                    e.getMessage(), created.size());
            cancelChildren(caller, created);
            markCancelled(sweepId);
            throw e;
        }
        LOG.infof("sweep %s created for tenant %s: %d children ranked by %s, early stopping %s", sweepId,
                caller.tenant(), created.size(), plan.metric(), plan.earlyStopping());
        return view(caller, sweepId);
    }

    // ---------------------------------------------------------------- read

    /**
     * The sweep with its children: each child's job status, progress, metric and final numbers, read in four queries
     * whatever the number of children (the console polls this while a sweep runs).
     */
    public ObjectNode view(Caller caller, String sweepId) throws SQLException {
        SweepRow sweep = load(sweepId).filter(s -> s.tenant().equals(caller.tenant()))
                .orElseThrow(() -> ProblemException.notFound("sweep", sweepId));
        List<ChildRow> children = children(sweepId);
        List<String> jobIds = children.stream().map(ChildRow::jobId).toList();
        Map<String, JobRow> jobRows;
        Map<String, Double> metrics;
        Map<String, JsonNode> finals;
        try (Connection c = dataSource.getConnection()) {
            jobRows = JobService.loadRows(c, jobIds);
            metrics = metricsOf(c, jobIds, sweep.metric());
            finals = finalNumbers(c, jobIds);
        }
        ObjectNode out = mapper.createObjectNode();
        out.put("id", sweep.id());
        out.put("object", "sweep");
        out.put("created_at", sweep.createdAt().getEpochSecond());
        out.put("metric", sweep.metric());
        out.put("higher_is_better", sweep.higherIsBetter());
        out.put("early_stopping", sweep.earlyStopping());
        ArrayNode list = out.putArray("children");
        int terminal = 0;
        int succeeded = 0;
        ObjectNode best = null;
        double bestValue = 0;
        for (ChildRow c : children) {
            JobRow job = jobRows.get(c.jobId());
            if (job == null || !job.tenant().equals(sweep.tenant())) {
                throw new IllegalStateException("sweep " + sweepId + ": child job " + c.jobId() + " is missing");
            }
            ObjectNode child = list.addObject();
            child.put("job_id", job.id());
            child.put("trial", c.trial());
            child.put("status", job.status());
            child.set("params", tree(c.paramsJson()));
            child.set("progress", tree(job.progressJson()));
            Double value = metrics.get(job.id());
            if (value == null) {
                child.putNull("metric");
            } else {
                child.put("metric", value);
            }
            child.put("stopped_early", c.stopReason() != null);
            if (c.stopReason() != null) {
                child.put("stop_reason", c.stopReason());
            }
            child.put("adapter", job.adapterId());
            // the worker's final numbers, for cost/size plots: trainable share and training time
            JsonNode done = finals.getOrDefault(job.id(), mapper.createObjectNode());
            for (String k : List.of("trainable_parameters", "total_parameters", "train_seconds", "peak_rss_bytes")) {
                if (done.hasNonNull(k)) {
                    child.set(k, done.get(k));
                }
            }
            JobStatus status = JobStatus.fromWire(job.status());
            if (status.isTerminal()) {
                terminal++;
            }
            if (status == JobStatus.SUCCEEDED) {
                succeeded++;
                if (value != null && (best == null
                        || (sweep.higherIsBetter() ? value > bestValue : value < bestValue))) {
                    best = child;
                    bestValue = value;
                }
            }
        }
        out.put("status", sweep.cancelled() ? "cancelled"
                : terminal < children.size() ? "running" : succeeded > 0 ? "succeeded" : "failed");
        ObjectNode progress = out.putObject("progress");
        progress.put("children", children.size());
        progress.put("finished", terminal);
        progress.put("succeeded", succeeded);
        progress.put("percent", children.isEmpty() ? 0 : 100.0 * terminal / children.size());
        if (best == null) {
            out.putNull("best");
        } else {
            ObjectNode b = out.putObject("best");
            b.put("job_id", best.get("job_id").asText());
            b.put("trial", best.get("trial").asInt());
            b.put("metric", bestValue);
            b.set("params", best.get("params"));
            b.set("adapter", best.get("adapter"));
        }
        return out;
    }

    /** One page of the tenant's sweeps, newest first (keyset on created_at, id), each as {@link #view} shows it. */
    public Map<String, Object> list(Caller caller, PageRequest page) throws SQLException {
        List<String> ids = new ArrayList<>();
        String after = page.after();
        try (Connection c = dataSource.getConnection()) {
            if (after != null) {
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sweeps WHERE id = ? AND tenant_id = ?")) {
                    ps.setString(1, after);
                    ps.setString(2, caller.tenant());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw page.unknownAfter("sweep");
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM sweeps WHERE tenant_id = ?"
                    + (after == null ? "" : " AND (created_at, id) < (SELECT created_at, id FROM sweeps WHERE id = ?)")
                    + " ORDER BY created_at DESC, id DESC LIMIT ?")) {
                int i = 1;
                ps.setString(i++, caller.tenant());
                if (after != null) {
                    ps.setString(i++, after);
                }
                ps.setInt(i, page.fetchSize());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
        }
        List<ObjectNode> views = new ArrayList<>();
        Page<String> idPage = Page.of(ids, page);
        for (String id : idPage.data()) {
            views.add(view(caller, id));
        }
        return new Page<>(views, idPage.hasMore()).body(v -> v, v -> v.path("id").asText());
    }

    /**
     * Each child's score: the final validation evaluation of its succeeded event, else the latest evaluation it
     * reported while training ({@code metrics} events with {@code eval}); children with none are left out.
     */
    private static Map<String, Double> metricsOf(Connection c, List<String> jobIds, String metric) throws SQLException {
        Map<String, Double> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT DISTINCT ON (job_id) job_id, (data->'eval'->>?)::double precision FROM job_events"
                        + " WHERE job_id = ANY(?) AND jsonb_exists(data->'eval', ?)"
                        + " ORDER BY job_id, (type = 'status') DESC, seq DESC")) {
            ps.setString(1, metric);
            ps.setArray(2, c.createArrayOf("text", jobIds.toArray()));
            ps.setString(3, metric);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    double v = rs.getDouble(2);
                    if (!rs.wasNull() && Double.isFinite(v)) {
                        out.put(rs.getString(1), v);
                    }
                }
            }
        }
        return out;
    }

    /** Each child's last status event that carries its final numbers (trainable_parameters, train_seconds …). */
    private Map<String, JsonNode> finalNumbers(Connection c, List<String> jobIds) throws SQLException {
        Map<String, JsonNode> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT DISTINCT ON (job_id) job_id, data::text FROM job_events WHERE job_id = ANY(?)"
                        + " AND type = 'status' AND jsonb_exists(data, 'trainable_parameters')"
                        + " ORDER BY job_id, seq DESC")) {
            ps.setArray(1, c.createArrayOf("text", jobIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), tree(rs.getString(2)));
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- cancel

    public ObjectNode cancel(Caller caller, String sweepId) throws SQLException {
        load(sweepId).filter(s -> s.tenant().equals(caller.tenant()))
                .orElseThrow(() -> ProblemException.notFound("sweep", sweepId));
        markCancelled(sweepId);
        cancelChildren(caller, children(sweepId).stream().map(ChildRow::jobId).toList());
        LOG.infof("sweep %s cancelled by tenant %s", sweepId, caller.tenant());
        return view(caller, sweepId);
    }

    private void cancelChildren(Caller caller, List<String> jobIds) {
        for (String id : jobIds) {
            try {
                JobRow j = jobs.get(caller, id);
                if (!JobStatus.fromWire(j.status()).isTerminal()) {
                    jobs.cancel(caller, id);
                }
            } catch (ProblemException | SQLException e) {
                // already finished meanwhile (409) or gone: nothing to stop
                LOG.debugf("sweep child %s: not cancelled (%s)", id, e.getMessage());
            }
        }
    }

    private void markCancelled(String sweepId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE sweeps SET cancelled = true WHERE id = ?")) {
            ps.setString(1, sweepId);
            ps.executeUpdate();
        }
    }

    // ---------------------------------------------------------------- successive halving

    /** One round over every sweep with early stopping and a running child. */
    void halveAll() {
        try {
            for (String sweepId : sweepsToHalve()) {
                halve(sweepId);
            }
        } catch (Exception e) {
            LOG.warnf("successive halving round failed: %s", e.toString());
        }
    }

    private List<String> sweepsToHalve() throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT DISTINCT s.id FROM sweeps s JOIN sweep_children sc ON sc.sweep_id = s.id"
                        + " JOIN jobs j ON j.id = sc.job_id WHERE s.early_stopping AND NOT s.cancelled"
                        + " AND j.status = 'running'")) {
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    /** Judges the sweep's running children at the rungs they reached; stops the losers through a cancel. */
    void halve(String sweepId) throws SQLException {
        SweepRow sweep = load(sweepId).orElseThrow();
        List<SuccessiveHalving.Child> children = new ArrayList<>();
        for (ChildRow c : children(sweepId)) {
            Optional<JobRow> job = jobRow(c.jobId());
            if (job.isEmpty()) {
                continue;
            }
            long total = job.get().progressJson() == null ? 0
                    : tree(job.get().progressJson()).path("total_steps").asLong(0);
            children.add(new SuccessiveHalving.Child(c.jobId(), JobStatus.RUNNING.wire().equals(job.get().status()),
                    total, evals(c.jobId()), c.judgedRungs()));
        }
        Caller owner = new Caller(sweep.tenant(), "sweep-" + sweepId, false);
        for (SuccessiveHalving.Decision d : SuccessiveHalving.decide(children, SuccessiveHalving.DEFAULT_RUNGS)) {
            String reason = d.stop() ? String.format(java.util.Locale.ROOT, "successive halving: validation loss"
                    + " %.4f ranked %d of %d at rung %d (only the best half goes on)", d.loss(), d.rank(), d.reached(),
                    d.rung() + 1) : null;
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "UPDATE sweep_children SET judged_rungs = ?, stop_reason = COALESCE(?, stop_reason)"
                            + " WHERE sweep_id = ? AND job_id = ? AND judged_rungs = ?")) {
                ps.setInt(1, d.rung() + 1);
                ps.setString(2, reason);
                ps.setString(3, sweepId);
                ps.setString(4, d.jobId());
                ps.setInt(5, d.rung());
                if (ps.executeUpdate() == 0) {
                    continue; // judged meanwhile
                }
            }
            if (d.stop()) {
                LOG.infof("sweep %s: stopping child %s — %s", sweepId, d.jobId(), reason);
                cancelChildren(owner, List.of(d.jobId()));
            }
        }
    }

    private List<SuccessiveHalving.Eval> evals(String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT (data->>'step')::bigint, (data->'eval'->>'loss')::double precision FROM job_events"
                        + " WHERE job_id = ? AND type = 'metrics' AND jsonb_exists(data, 'eval')"
                        + " AND jsonb_exists(data, 'step') ORDER BY seq")) {
            ps.setString(1, jobId);
            List<SuccessiveHalving.Eval> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    double loss = rs.getDouble(2);
                    if (!rs.wasNull()) {
                        out.add(new SuccessiveHalving.Eval(rs.getLong(1), loss));
                    }
                }
            }
            return out;
        }
    }

    // ---------------------------------------------------------------- rows

    private Optional<SweepRow> load(String sweepId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id, tenant_id, request::text, metric, higher_is_better, early_stopping, cancelled, created_at"
                        + " FROM sweeps WHERE id = ?")) {
            ps.setString(1, sweepId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new SweepRow(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getString(4), rs.getBoolean(5), rs.getBoolean(6), rs.getBoolean(7),
                        rs.getTimestamp(8).toInstant())) : Optional.empty();
            }
        }
    }

    private List<ChildRow> children(String sweepId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT trial, job_id, params::text, judged_rungs, stop_reason FROM sweep_children WHERE sweep_id = ?"
                        + " ORDER BY trial")) {
            ps.setString(1, sweepId);
            List<ChildRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ChildRow(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5)));
                }
            }
            return out;
        }
    }

    private Optional<JobRow> jobRow(String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return JobService.loadRow(c, jobId);
        }
    }

    private static String newSweepId() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return "sweep-" + HexFormat.of().formatHex(b);
    }

    private JsonNode tree(String json) {
        try {
            return json == null ? mapper.nullNode() : mapper.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is unreadable: " + e.getMessage(), e);
        }
    }
}
