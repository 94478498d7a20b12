package io.peftfoundry.jobapi.service;

import java.time.Instant;

/** One stored job event ({@code job_events}). */
public record EventRow(String id, String jobId, long seq, Instant createdAt, String level, String type, String status,
                       String message, String dataJson) {

    static final String COLUMNS = "id, job_id, seq, created_at, level, type, status, message, data::text";

    static EventRow read(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new EventRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getTimestamp(4).toInstant(),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9));
    }
}
