package io.peftfoundry.artifacts.client;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14 finding 5: unpacking stops at the entry and byte limits, counting inflated bytes, not declared ones. */
class UnzipLimitsTest {

    private static Path zipOfZeros(int entries, int bytesEach) throws IOException {
        Path zip = Files.createTempFile("zeros-", ".zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (int i = 0; i < entries; i++) {
                out.putNextEntry(new ZipEntry("f" + i + ".bin"));
                out.write(new byte[bytesEach]);
                out.closeEntry();
            }
        }
        return zip;
    }

    @Test
    void aZipInflatingPastTheByteLimitIsRefused() throws IOException {
        // 4 MiB of zeros deflate to a few KB: a 1 MiB limit must stop it while inflating
        Path zip = zipOfZeros(1, 4 << 20);
        assertTrue(Files.size(zip) < 64 * 1024, "the zip is small: " + Files.size(zip));
        Path target = Files.createTempDirectory("out-");
        IOException e = assertThrows(IOException.class, () -> ArtifactClient.unzip(zip, target, 100, 1 << 20));
        assertTrue(e.getMessage().contains("1048576 bytes"), e.getMessage());
        assertTrue(Files.size(target.resolve("f0.bin")) <= 1 << 20, "no more than the limit was written");
    }

    @Test
    void aZipWithMoreEntriesThanTheLimitIsRefused() throws IOException {
        Path zip = zipOfZeros(6, 1);
        IOException e = assertThrows(IOException.class,
                () -> ArtifactClient.unzip(zip, Files.createTempDirectory("out-"), 5, 1 << 20));
        assertTrue(e.getMessage().contains("more than 5 entries"), e.getMessage());
    }

    @Test
    void aZipWithinTheLimitsUnpacksExactly() throws IOException {
        Path zip = zipOfZeros(5, 1000);
        Path target = Files.createTempDirectory("out-");
        ArtifactClient.unzip(zip, target, 5, 5000);
        assertEquals(1000, Files.size(target.resolve("f4.bin")));
    }
}
