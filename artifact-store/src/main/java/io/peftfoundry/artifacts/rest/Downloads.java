package io.peftfoundry.artifacts.rest;

import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.artifacts.service.ArtifactStorage;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Serves blobs only after verifying them, or hands out a presigned URL. */
final class Downloads {

    private Downloads() {
    }

    static Response verified(ArtifactStorage storage, Artifact a) throws IOException {
        Path verified = storage.verifiedCopy(a);
        StreamingOutput body = out -> {
            try (InputStream in = Files.newInputStream(verified)) {
                in.transferTo(out);
            } finally {
                Files.deleteIfExists(verified);
            }
        };
        String safeName = a.name().replaceAll("[^A-Za-z0-9._-]", "_");
        return Response.ok(body, a.mediaType())
                .header(HttpHeaders.CONTENT_LENGTH, a.size())
                .header("Digest", "sha-256=" + java.util.Base64.getEncoder().encodeToString(java.util.HexFormat.of().parseHex(a.digest())))
                .header("X-Content-SHA256", a.digest())
                .header("Content-Disposition", "attachment; filename=\"" + safeName + "\"")
                .build();
    }

    static Map<String, Object> presigned(ArtifactStorage storage, Artifact a, Duration expiry) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("url", storage.presignedUrl(a, expiry));
        m.put("expires_at", Instant.now().plus(expiry).getEpochSecond());
        m.put("digest", "sha256:" + a.digest());
        m.put("bytes", a.size());
        return m;
    }
}
