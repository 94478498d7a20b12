package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14 finding 5: zip bombs — too many entries, and JSON configs that inflate past their cap — are refused. */
class ZipLayoutTest {

    @Test
    void aZipWithMoreEntriesThanTheCapIsRefused() throws IOException {
        Path zip = Files.createTempFile("many-", ".zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (int i = 0; i <= ZipLayout.MAX_ENTRIES; i++) {
                out.putNextEntry(new ZipEntry("f" + i));
                out.closeEntry();
            }
        }
        ZipLayout.InvalidArchiveException e = assertThrows(ZipLayout.InvalidArchiveException.class,
                () -> ZipLayout.open(zip).close());
        assertTrue(e.getMessage().contains(String.valueOf(ZipLayout.MAX_ENTRIES)), e.getMessage());
    }

    @Test
    void aJsonConfigInflatingPastTheCapIsRefusedNamingTheFile() throws IOException {
        // 1 MiB + 1 of spaces compresses to a few KB: the declared size is the real one here, and a stream that lies
        // about it is cut at the cap while reading
        Path zip = Files.createTempFile("bomb-", ".zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("config.json"));
            out.write('{');
            out.write(" ".repeat(ZipLayout.MAX_JSON_BYTES).getBytes(StandardCharsets.US_ASCII));
            out.write('}');
            out.closeEntry();
        }
        try (ZipLayout layout = ZipLayout.open(zip)) {
            ZipLayout.InvalidArchiveException e = assertThrows(ZipLayout.InvalidArchiveException.class,
                    () -> layout.readJson(layout.find("config.json").orElseThrow(), new ObjectMapper()));
            assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("MiB"), e.getMessage());
        }
    }

    @Test
    void aSmallJsonConfigReads() throws IOException {
        Path zip = Files.createTempFile("ok-", ".zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("model/config.json"));
            out.write("{\"model_type\":\"bert\"}".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        try (ZipLayout layout = ZipLayout.open(zip)) {
            assertEquals("bert", layout.readJson(layout.find("config.json").orElseThrow(), new ObjectMapper())
                    .path("model_type").asText());
        }
    }
}
