package io.peftfoundry.artifacts.service;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A decoder that ships in this service's jar as a Hugging Face layout directory under {@code builtin/<name>/} on the
 * classpath: the demo decoder pretrained in this repository ({@code demo/decoder/pretrained}, copied there by the
 * build), with its README and LICENSE. Registered like the built-in encoders, so causal-LM jobs run on a fresh
 * platform without an upload.
 */
public record BuiltinDecoder(String name, String license, String source) {

    /** The files copied into the model directory; the first three are required. */
    static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json", "README.md", "LICENSE",
            "pretrain-metrics.json");

    private static final Map<String, BuiltinDecoder> KNOWN = Map.of("demo-decoder", new BuiltinDecoder("demo-decoder",
            "GFDL-1.1-or-later",
            "pretrained in this repository from random init (demo/decoder/pretrained) on the Jargon File (public domain)"
                    + " and FOLDOC definitions (GFDL); see data/decoder/SOURCE.md"));

    /** The decoder of that name shipped in the jar, if any. */
    public static Optional<BuiltinDecoder> byName(String name) {
        BuiltinDecoder d = KNOWN.get(name);
        return d != null && resource(d.name, "config.json") != null ? Optional.of(d) : Optional.empty();
    }

    /** Copies the model's files from the classpath into {@code dir}. */
    public void copyTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : FILES) {
            try (InputStream in = BuiltinDecoder.class.getClassLoader().getResourceAsStream("builtin/" + name + "/" + f)) {
                if (in == null) {
                    if (FILES.indexOf(f) < 3) {
                        throw new IOException("builtin/" + name + "/" + f + " is not in the artifact-store jar: rebuild it"
                                + " (the build copies demo/decoder/pretrained)");
                    }
                    continue;
                }
                Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    public Map<String, String> annotations() {
        return Map.of("license", license, "source", source, "builtin", "true");
    }

    private static java.net.URL resource(String name, String file) {
        return BuiltinDecoder.class.getClassLoader().getResource("builtin/" + name + "/" + file);
    }
}
