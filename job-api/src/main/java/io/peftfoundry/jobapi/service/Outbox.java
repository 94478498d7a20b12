package io.peftfoundry.jobapi.service;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** Writes outbox rows inside the caller's transaction; {@link OutboxRelay} publishes them afterwards. */
final class Outbox {

    private Outbox() {
    }

    static void add(Connection c, String topic, String key, String payloadJson) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO outbox (topic, message_key, payload) VALUES (?, ?, ?::jsonb)")) {
            ps.setString(1, topic);
            ps.setString(2, key);
            ps.setString(3, payloadJson);
            ps.executeUpdate();
        }
    }
}
