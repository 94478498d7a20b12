package io.peftfoundry.jobapi.service;

import java.time.Instant;

/** One row of {@code jobs}; JSON columns as text. */
public record JobRow(String id, String tenant, String status, String specJson, int attempt, String progressJson,
                     Long trainedTokens, String adapterId, String checkpointId, String errorJson, long lastEventSeq,
                     Instant createdAt, Instant startedAt, Instant finishedAt, Instant estimatedFinish,
                     String resourcesJson) {

    static final String COLUMNS = "id, tenant_id, status, spec::text, attempt, progress::text, trained_tokens, adapter_id,"
            + " checkpoint_id, error::text, last_event_seq, created_at, started_at, finished_at, estimated_finish,"
            + " resources::text";

    static JobRow read(java.sql.ResultSet rs) throws java.sql.SQLException {
        long tokens = rs.getLong(7);
        Long trained = rs.wasNull() ? null : tokens;
        return new JobRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5),
                rs.getString(6), trained, rs.getString(8), rs.getString(9), rs.getString(10), rs.getLong(11),
                instant(rs, 12), instant(rs, 13), instant(rs, 14), instant(rs, 15), rs.getString(16));
    }

    private static Instant instant(java.sql.ResultSet rs, int column) throws java.sql.SQLException {
        java.sql.Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
