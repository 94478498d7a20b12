package io.peftfoundry.artifacts.rest;

import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.artifacts.service.ArtifactStorage;
import io.peftfoundry.artifacts.storage.Digests;
import org.jboss.logging.Logger;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Serves blobs verified, or hands out a presigned URL. Verification streams: the blob is read from S3 through SHA-256
 * straight into the response, but its last {@code foundry.artifacts.verify-tail-bytes} (1 MiB) are held back until the digest and size match the
 * manifest. A mismatch aborts the response before that tail, so the client receives fewer bytes than the
 * {@code Content-Length} it was promised (curl exits with error 18) — never a complete-looking corrupted body — and the
 * failure is logged. A blob no larger than that is read whole first, so its mismatch is still a 500
 * {@code blob-integrity} problem. No scratch file, one pass over the bytes, heap bounded by the tail and one buffer.
 */
final class Downloads {

    private static final Logger LOG = Logger.getLogger(Downloads.class);

    private Downloads() {
    }

    static Response verified(ArtifactStorage storage, Artifact a) throws IOException {
        final int TAIL_BYTES = storage.verifyTailBytes();
        Response.ResponseBuilder ok;
        if (a.size() <= TAIL_BYTES) {
            byte[] all;
            Digests.DigestAndSize got;
            try (Digests.HashingInputStream in = storage.openDigesting(a)) {
                all = in.readNBytes(TAIL_BYTES + 1);
                got = in.result();
            }
            storage.checkIntegrity(a, got);
            ok = Response.ok(all, a.mediaType());
        } else {
            Digests.HashingInputStream in = storage.openDigesting(a);
            StreamingOutput body = out -> {
                try (in) {
                    byte[] buf = new byte[1 << 20];
                    long head = a.size() - TAIL_BYTES;
                    while (head > 0) {
                        int n = in.read(buf, 0, (int) Math.min(buf.length, head));
                        if (n < 0) {
                            break;
                        }
                        out.write(buf, 0, n);
                        head -= n;
                    }
                    byte[] tail = in.readNBytes(TAIL_BYTES);
                    boolean extra = in.read() >= 0;
                    Digests.DigestAndSize got = in.result();
                    if (head > 0 || extra || got.size() != a.size() || !got.sha256Hex().equals(a.digest())) {
                        LOG.errorf("integrity failure on %s %s while streaming: manifest sha256 %s size %d, stored blob sha256 %s"
                                + " size %d%s; response aborted before its last %d bytes", a.kind(), a.id(), a.digest(), a.size(),
                                got.sha256Hex(), got.size(), extra ? "+" : "", TAIL_BYTES);
                        throw new IOException("stored content of " + a.id() + " does not match its sha-256/size; response aborted");
                    }
                    out.write(tail);
                }
            };
            ok = Response.ok(body, a.mediaType());
        }
        String safeName = a.name().replaceAll("[^A-Za-z0-9._-]", "_");
        return ok
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
