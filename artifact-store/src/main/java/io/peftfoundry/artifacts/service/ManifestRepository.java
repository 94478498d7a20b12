package io.peftfoundry.artifacts.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import jakarta.enterprise.context.ApplicationScoped;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Manifest rows in the {@code artifacts} schema (plain JDBC). */
@ApplicationScoped
public class ManifestRepository {

    /** Tenant that owns the built-in backbones; every tenant can read them. */
    public static final String BUILTIN_TENANT = "_builtin";

    private static final String COLUMNS = "id, tenant, kind, name, digest, size, media_type, annotations::text, created_at, "
            + "purpose, task, line_count, labels::text, job_id, attempt, step";

    private final DataSource ds;
    private final ObjectMapper mapper;

    public ManifestRepository(DataSource ds, ObjectMapper mapper) {
        this.ds = ds;
        this.mapper = mapper;
    }

    public interface IoWork<T> {
        T run() throws IOException;
    }

    /**
     * Runs work while holding a PostgreSQL advisory lock on a digest, so that storing a blob and
     * pruning an unreferenced one never interleave.
     */
    public <T> T withDigestLock(String digest, IoWork<T> work) throws IOException {
        long key = Long.parseUnsignedLong(digest.substring(0, 15), 16);
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("select pg_advisory_lock(?)")) {
                ps.setLong(1, key);
                ps.execute();
            }
            try {
                return work.run();
            } finally {
                try (PreparedStatement ps = c.prepareStatement("select pg_advisory_unlock(?)")) {
                    ps.setLong(1, key);
                    ps.execute();
                }
            }
        } catch (SQLException e) {
            throw new IOException("database error while locking digest: " + e.getMessage(), e);
        }
    }

    public void insert(Artifact a) {
        String sql = "insert into artifacts (id, tenant, kind, name, digest, size, media_type, annotations, created_at, "
                + "purpose, task, line_count, labels, job_id, attempt, step) "
                + "values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)";
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, a.id());
            ps.setString(2, a.tenant());
            ps.setString(3, a.kind());
            ps.setString(4, a.name());
            ps.setString(5, a.digest());
            ps.setLong(6, a.size());
            ps.setString(7, a.mediaType());
            ps.setString(8, json(a.annotations() == null ? mapper.createObjectNode() : a.annotations()));
            ps.setObject(9, a.createdAt());
            ps.setString(10, a.purpose());
            ps.setString(11, a.task());
            setLong(ps, 12, a.lineCount());
            ps.setString(13, a.labels() == null ? null : json(a.labels()));
            ps.setString(14, a.jobId());
            if (a.attempt() == null) {
                ps.setNull(15, Types.INTEGER);
            } else {
                ps.setInt(15, a.attempt());
            }
            setLong(ps, 16, a.step());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot insert manifest " + a.id() + ": " + e.getMessage(), e);
        }
    }

    /** An artifact of the given kind visible to the caller (own tenant; admins see all; built-in models for everyone). */
    public Optional<Artifact> find(String kind, String id, Caller caller) {
        List<Artifact> rows = query("select " + COLUMNS + " from artifacts where kind = ? and id = ?", kind, id);
        return rows.stream().filter(a -> visible(a, caller)).findFirst();
    }

    /**
     * One page of the artifacts of a kind the caller sees, newest first ({@code created_at desc, id desc}); the cursor
     * is a keyset condition on that order, so a page costs the same however deep. {@code after} must be an artifact of
     * this kind the caller sees (400 naming {@code after} otherwise).
     */
    public Page<Artifact> list(String kind, Caller caller, PageRequest page) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder("select " + COLUMNS + " from artifacts where kind = ?");
        params.add(kind);
        if (!caller.platform()) {
            sql.append(" and (tenant = ? or tenant = ?)");
            params.add(caller.tenant());
            params.add(BUILTIN_TENANT);
        }
        if (page.after() != null) {
            Artifact after = find(kind, page.after(), caller).orElseThrow(() -> page.unknownAfter(kind));
            sql.append(" and (created_at, id) < (?, ?)");
            params.add(after.createdAt());
            params.add(after.id());
        }
        sql.append(" order by created_at desc, id desc limit ?");
        params.add(page.fetchSize());
        return Page.of(query(sql.toString(), params.toArray()), page);
    }

    public Optional<Artifact> findModelByName(String tenant, String name) {
        return query("select " + COLUMNS + " from artifacts where kind = 'model' and tenant = ? and name = ?", tenant, name)
                .stream().findFirst();
    }

    /** Checkpoints of one job, newest (highest attempt, then step) first. */
    public List<Artifact> checkpoints(String jobId, Caller caller) {
        return query("select " + COLUMNS + " from artifacts where kind = 'checkpoint' and job_id = ? "
                + "order by attempt desc, step desc, created_at desc, id desc", jobId)
                .stream().filter(a -> visible(a, caller)).toList();
    }

    /** Deletes the manifest row; returns whether any row still references the digest. */
    public boolean deleteAndCheckReferenced(String id, String digest) {
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("delete from artifacts where id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("select exists (select 1 from artifacts where digest = ?)")) {
                ps.setString(1, digest);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot delete manifest " + id + ": " + e.getMessage(), e);
        }
    }

    private static boolean visible(Artifact a, Caller caller) {
        return caller.platform() || a.tenant().equals(caller.tenant()) || BUILTIN_TENANT.equals(a.tenant());
    }

    private List<Artifact> query(String sql, Object... params) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<Artifact> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(map(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("manifest query failed: " + e.getMessage(), e);
        }
    }

    private Artifact map(ResultSet rs) throws SQLException {
        try {
            String labels = rs.getString(13);
            long lineCount = rs.getLong(12);
            Long lines = rs.wasNull() ? null : lineCount;
            int attempt = rs.getInt(15);
            Integer attemptOrNull = rs.wasNull() ? null : attempt;
            long step = rs.getLong(16);
            Long stepOrNull = rs.wasNull() ? null : step;
            return new Artifact(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                    rs.getLong(6), rs.getString(7), (ObjectNode) mapper.readTree(rs.getString(8)),
                    rs.getObject(9, OffsetDateTime.class), rs.getString(10), rs.getString(11), lines,
                    labels == null ? null : mapper.readValue(labels, new TypeReference<List<String>>() { }),
                    rs.getString(14), attemptOrNull, stepOrNull);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String json(Object o) {
        try {
            return mapper.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value);
        }
    }
}
