package io.peftfoundry.jobapi.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Applies worker events to jobs. Every new event is stored once (unique job_id + seq; a redelivery is ignored). State
 * changes are applied only in seq order: an event whose seq is not above the job's last applied seq is stored but not
 * applied, as is an event of an earlier attempt than the job's current one (seq = attempt × 1,000,000 + n) and
 * anything after a terminal status (succeeded, failed and cancelled are final).
 */
@ApplicationScoped
public class JobEventService {

    /** seq = attempt × this + n, n from 1 within an attempt (agreed with trainer-worker). */
    public static final long SEQ_PER_ATTEMPT = 1_000_000L;

    private static final Logger LOG = Logger.getLogger(JobEventService.class);

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final JobService jobs;

    /** What happened to an incoming event. */
    public enum Outcome { UNKNOWN_JOB, DUPLICATE, STORED, APPLIED }

    public JobEventService(DataSource dataSource, ObjectMapper mapper, JobService jobs) {
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.jobs = jobs;
    }

    public Outcome apply(JobEvent event) throws SQLException {
        Instant at = event.at() != null ? event.at() : Instant.now();
        Map<String, Object> dataMap = event.data() == null ? Map.of() : event.data();
        ObjectNode data = mapper.valueToTree(dataMap);
        JobStatus[] transitioned = new JobStatus[1];
        Outcome outcome = Db.inTransaction(dataSource, c -> {
            Optional<JobRow> found = JobService.load(c, event.jobId(), true);
            if (found.isEmpty()) {
                return Outcome.UNKNOWN_JOB;
            }
            JobRow job = found.get();
            if (!store(c, event, at, data)) {
                return Outcome.DUPLICATE;
            }
            JobStatus current = JobStatus.fromWire(job.status());
            long eventAttempt = event.seq() / SEQ_PER_ATTEMPT;
            if (event.seq() <= job.lastEventSeq() || current.isTerminal()
                    || (eventAttempt >= 1 && eventAttempt < job.attempt())) {
                return Outcome.STORED;
            }
            transitioned[0] = applyToJob(c, job, event, at, data);
            return Outcome.APPLIED;
        });
        // open SSE streams hear of the stored event through PostgreSQL (JobEventStreams: a trigger notifies on insert)
        if (outcome == Outcome.UNKNOWN_JOB) {
            LOG.warnf("event seq %d for unknown job %s ignored", event.seq(), event.jobId());
        }
        if (transitioned[0] != null) {
            jobs.transitioned(transitioned[0]);
            LOG.infof("job %s: %s (event seq %d)", event.jobId(), transitioned[0].wire(), event.seq());
        }
        return outcome;
    }

    private boolean store(Connection c, JobEvent event, Instant at, ObjectNode data) throws SQLException {
        String level = data.path("level").asText("");
        if (!List.of("info", "warn", "error").contains(level)) {
            level = event.status() == JobStatus.FAILED ? "error" : "info";
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_events (id, job_id, seq, created_at, level, "
                + "type, message, data, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, eventId(event.jobId(), event.seq()));
            ps.setString(2, event.jobId());
            ps.setLong(3, event.seq());
            ps.setTimestamp(4, Timestamp.from(at));
            ps.setString(5, level);
            ps.setString(6, event.type().wire());
            ps.setString(7, message(event, data));
            ps.setString(8, data.toString());
            ps.setString(9, event.status() == null ? null : event.status().wire());
            return ps.executeUpdate() == 1;
        }
    }

    /** {@code ftevent-<job hex>-<seq>}: unique, and the seq can be read back from it. */
    public static String eventId(String jobId, long seq) {
        return "ftevent-" + (jobId.startsWith("ftjob-") ? jobId.substring(6) : jobId) + "-" + seq;
    }

    private static String message(JobEvent event, JsonNode data) {
        if (data.hasNonNull("message")) {
            return data.get("message").asText();
        }
        return switch (event.type()) {
            case STATUS -> "status: " + (event.status() == null ? "?" : event.status().wire());
            case METRICS -> metricsMessage(data);
            case CHECKPOINT -> "checkpoint " + data.path("checkpoint_id").asText("?") + " at step "
                    + data.path("step").asText("?");
            case MESSAGE -> "";
        };
    }

    /** Validation metrics named in a metrics event's message, in this order. */
    private static final List<String> EVAL_FIELDS = List.of("loss", "perplexity", "accuracy", "macro_f1", "token_accuracy");

    /**
     * {@code step 6/20, loss 4.8795} for a training step; {@code step 20/20, validation loss 4.8019, perplexity 121.74,
     * token accuracy 0.080738} for an evaluation (numbers to 5 significant digits).
     */
    static String metricsMessage(JsonNode data) {
        StringBuilder m = new StringBuilder("step ").append(data.path("step").asText("?"));
        if (data.hasNonNull("total_steps")) {
            m.append('/').append(data.get("total_steps").asText());
        }
        if (data.path("loss").isNumber()) {
            m.append(", loss ").append(significant(data.get("loss")));
        }
        JsonNode eval = data.path("eval");
        String lead = ", validation ";
        for (String field : EVAL_FIELDS) {
            if (eval.path(field).isNumber()) {
                m.append(lead).append(field.replace('_', ' ')).append(' ').append(significant(eval.get(field)));
                lead = ", ";
            }
        }
        return m.toString();
    }

    private static String significant(JsonNode number) {
        double v = number.asDouble();
        if (!Double.isFinite(v)) {
            return String.valueOf(v);
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(5)).stripTrailingZeros().toPlainString();
    }

    /** {@code {step, total_steps, percent[, epoch]}} from a succeeded event that has both numbers; else null. */
    private String finalProgress(ObjectNode data) {
        JsonNode step = data.get("step");
        JsonNode total = data.get("total_steps");
        if (step == null || !step.isNumber() || total == null || !total.isNumber()) {
            return null;
        }
        ObjectNode p = mapper.createObjectNode();
        p.set("step", step);
        p.set("total_steps", total);
        if (data.hasNonNull("epoch")) {
            p.set("epoch", data.get("epoch"));
        }
        if (total.asDouble() > 0) {
            p.put("percent", Math.round(1000.0 * step.asDouble() / total.asDouble()) / 10.0);
        }
        return p.toString();
    }

    private JobStatus applyToJob(Connection c, JobRow job, JobEvent event, Instant at, ObjectNode data)
            throws SQLException {
        JobStatus newStatus = null;
        String sql;
        List<Object> args = new ArrayList<>();
        if (event.type() == JobEventType.STATUS && event.status() != null) {
            newStatus = event.status();
            int attempt = Math.max(job.attempt(), attemptOf(event, data));
            String adapter = data.hasNonNull("adapter_id") ? data.get("adapter_id").asText()
                    : data.hasNonNull("adapter") ? data.get("adapter").asText() : null;
            String error = null;
            if (newStatus == JobStatus.FAILED) {
                JsonNode e = data.get("error");
                error = e != null && e.isObject() ? e.toString() : mapper.createObjectNode()
                        .put("code", "training_failed")
                        .put("message", e != null && !e.isNull() ? e.asText() : data.path("message").asText("the job failed"))
                        .putNull("param").toString();
            }
            sql = "UPDATE jobs SET status = ?, attempt = ?, "
                    + "started_at = CASE WHEN ? AND started_at IS NULL THEN ? ELSE started_at END, "
                    + "finished_at = CASE WHEN ? THEN ? ELSE finished_at END, "
                    + "adapter_id = COALESCE(?, adapter_id), error = COALESCE(?::jsonb, error), "
                    + "trained_tokens = COALESCE(?, trained_tokens), "
                    + "estimated_finish = CASE WHEN ? THEN NULL ELSE estimated_finish END, "
                    + "progress = CASE WHEN ?::jsonb IS NULL THEN progress"
                    + " ELSE COALESCE(progress, '{}'::jsonb) || ?::jsonb END, "
                    + "last_event_seq = ?, updated_at = now() WHERE id = ?";
            args.add(newStatus.wire());
            args.add(attempt);
            args.add(newStatus == JobStatus.RUNNING);
            args.add(Timestamp.from(at));
            args.add(newStatus.isTerminal());
            args.add(Timestamp.from(at));
            args.add(adapter);
            args.add(error);
            // the succeeded event carries the run's total
            args.add(data.hasNonNull("trained_tokens") ? Long.valueOf(data.get("trained_tokens").asLong()) : null);
            args.add(newStatus != JobStatus.RUNNING);
            // the succeeded event carries the final step: progress ends there even when the last metrics events were
            // lost (metrics are sent without waiting; a Kafka outage longer than the producer's delivery timeout drops them)
            String finalProgress = newStatus == JobStatus.SUCCEEDED ? finalProgress(data) : null;
            args.add(finalProgress);
            args.add(finalProgress);
        } else if (event.type() == JobEventType.METRICS && data.hasNonNull("total_steps")) {
            // training progress; an evaluation's metrics event ({step, eval}) leaves progress as it is
            ObjectNode progress = mapper.createObjectNode();
            JsonNode step = data.get("step");
            JsonNode total = data.get("total_steps");
            progress.set("step", step == null ? mapper.nullNode() : step);
            progress.set("total_steps", total == null ? mapper.nullNode() : total);
            progress.set("epoch", data.has("epoch") ? data.get("epoch") : mapper.nullNode());
            if (step != null && step.isNumber() && total != null && total.isNumber() && total.asDouble() > 0) {
                progress.put("percent", Math.round(1000.0 * step.asDouble() / total.asDouble()) / 10.0);
            } else {
                progress.putNull("percent");
            }
            Long tokens = data.hasNonNull("trained_tokens") ? Long.valueOf(data.get("trained_tokens").asLong()) : null;
            Timestamp eta = data.hasNonNull("eta_seconds")
                    ? Timestamp.from(at.plusMillis(Math.round(data.get("eta_seconds").asDouble() * 1000))) : null;
            sql = "UPDATE jobs SET progress = ?::jsonb, trained_tokens = COALESCE(?, trained_tokens), "
                    + "estimated_finish = COALESCE(?, estimated_finish), last_event_seq = ?, updated_at = now() "
                    + "WHERE id = ?";
            args.add(progress.toString());
            args.add(tokens);
            args.add(eta);
        } else if (event.type() == JobEventType.CHECKPOINT && data.hasNonNull("checkpoint_id")) {
            sql = "UPDATE jobs SET checkpoint_id = ?, last_event_seq = ?, updated_at = now() WHERE id = ?";
            args.add(data.get("checkpoint_id").asText());
        } else {
            sql = "UPDATE jobs SET last_event_seq = ?, updated_at = now() WHERE id = ?";
        }
        args.add(event.seq());
        args.add(job.id());
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                Object v = args.get(i);
                if (v == null) {
                    ps.setNull(i + 1, Types.NULL);
                } else {
                    ps.setObject(i + 1, v);
                }
            }
            ps.executeUpdate();
        }
        return newStatus;
    }

    private static int attemptOf(JobEvent event, JsonNode data) {
        if (data.hasNonNull("attempt") && data.get("attempt").canConvertToInt()) {
            return data.get("attempt").asInt();
        }
        return (int) Math.max(1, event.seq() / SEQ_PER_ATTEMPT);
    }

    /** Stored events of a job with seq above {@code afterSeq}, oldest first. */
    public List<EventRow> events(String jobId, long afterSeq, int limit) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + EventRow.COLUMNS
                     + " FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?")) {
            ps.setString(1, jobId);
            ps.setLong(2, afterSeq);
            ps.setInt(3, limit);
            List<EventRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(EventRow.read(rs));
                }
            }
            return rows;
        }
    }

    /** The job's checkpoint events, newest first. */
    public List<EventRow> checkpoints(String jobId) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + EventRow.COLUMNS
                     + " FROM job_events WHERE job_id = ? AND type = 'checkpoint' ORDER BY seq DESC")) {
            ps.setString(1, jobId);
            List<EventRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(EventRow.read(rs));
                }
            }
            return rows;
        }
    }

    /** Parses {@code after}/{@code Last-Event-ID}: a seq, or an event id ({@code ftevent-…-<seq>}). */
    public static long seqOf(String cursor) {
        if (cursor == null || cursor.isBlank()) {
            return 0;
        }
        String s = cursor.trim();
        int dash = s.lastIndexOf('-');
        String digits = s.startsWith("ftevent-") && dash > 0 ? s.substring(dash + 1) : s;
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an event id or seq: '" + cursor + "'");
        }
    }

    String json(Object o) {
        try {
            return mapper.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
