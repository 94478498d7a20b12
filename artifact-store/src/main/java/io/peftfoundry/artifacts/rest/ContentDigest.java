package io.peftfoundry.artifacts.rest;

import io.peftfoundry.support.problem.ProblemException;

import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SHA-256 an uploader declares for a request body in a {@code Content-Digest} header (RFC 9530:
 * {@code Content-Digest: sha-256=:<base64 of the 32 bytes>:}, other algorithms in the same header are ignored).
 */
final class ContentDigest {

    private static final Pattern SHA256 = Pattern.compile("(?:^|,)\\s*sha-256\\s*=\\s*:([A-Za-z0-9+/=]+):\\s*(?:;[^,]*)?(?=,|$)");

    private ContentDigest() {
    }

    /** The declared digest as lower-case hex; null without a header or without a sha-256 member; 400 when malformed. */
    static String sha256Hex(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        Matcher m = SHA256.matcher(header);
        if (!m.find()) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(m.group(1));
        } catch (IllegalArgumentException e) {
            bytes = new byte[0];
        }
        if (bytes.length != 32) {
            throw ProblemException.badRequest("invalid-header",
                    "Content-Digest: sha-256 must be the base64 of 32 bytes between colons (RFC 9530), e.g. sha-256=:…=:");
        }
        return HexFormat.of().formatHex(bytes);
    }
}
