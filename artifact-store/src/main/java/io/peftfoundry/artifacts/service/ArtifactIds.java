package io.peftfoundry.artifacts.service;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Generated artifact ids ({@code file-…}, {@code adapter-…}): random, never derived from user input. */
public final class ArtifactIds {

    private static final SecureRandom RANDOM = new SecureRandom();

    private ArtifactIds() {
    }

    public static String next(String prefix) {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return prefix + "-" + HexFormat.of().formatHex(bytes);
    }
}
