package io.peftfoundry.artifacts.storage;

import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.StatObjectArgs;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parallel multipart put against the real S3 server of devstack (S3Proxy). The test profile's part size is 5 MiB
 * (S3's minimum) and 4 parts go at once ({@code %test} in application.properties), so a 23 MiB blob is five parts,
 * the last one short.
 */
@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
class BlobStoreTest {

    private static final long PART = 5L * 1024 * 1024;

    @Inject
    BlobStore blobs;

    @Test
    void aBlobOfSeveralPartsIsStoredUnderItsDigestWithIdenticalBytes() throws Exception {
        Path file = randomFile(4 * PART + 3 * 1024 * 1024 + 17, 1);
        Digests.DigestAndSize digest = Digests.of(file);
        assertTrue(blobs.putIfAbsent(digest.sha256Hex(), file, digest.size(), "application/zip"));

        String key = BlobStore.keyFor(digest.sha256Hex());
        var stat = blobs.client().statObject(StatObjectArgs.builder().bucket(blobs.bucket()).object(key).build());
        assertEquals(digest.size(), stat.size());
        assertEquals("application/zip", stat.contentType());
        // the parts are in file order: the stored bytes hash to the digest they are stored under
        try (InputStream in = blobs.client().getObject(GetObjectArgs.builder().bucket(blobs.bucket()).object(key).build());
             Digests.HashingInputStream read = new Digests.HashingInputStream(in)) {
            read.transferTo(java.io.OutputStream.nullOutputStream());
            assertEquals(digest, read.result());
        }
        // content-addressed: the same bytes again upload nothing
        assertFalse(blobs.putIfAbsent(digest.sha256Hex(), file, digest.size(), "application/zip"));
        Files.delete(file);
    }

    @Test
    void aPutThatFailsMidwayLeavesNothingUnderTheDigest() throws Exception {
        // the file is shorter than the size given: the put of the last part fails after others went in
        Path file = randomFile(3 * PART, 2);
        Digests.DigestAndSize digest = Digests.of(file);
        assertThrows(IOException.class, () -> blobs.putIfAbsent(digest.sha256Hex(), file, 4 * PART, "application/zip"));
        String key = BlobStore.keyFor(digest.sha256Hex());
        assertFalse(blobs.client().listObjects(ListObjectsArgs.builder().bucket(blobs.bucket()).prefix(key).build())
                .iterator().hasNext(), "no object under " + key);
        Files.delete(file);
    }

    private static Path randomFile(long size, long seed) throws IOException {
        Path file = Files.createTempFile("blob", ".bin");
        Random random = new Random(seed);
        byte[] buf = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= buf.length) {
                random.nextBytes(buf);
                out.write(buf, 0, (int) Math.min(buf.length, left));
            }
        }
        return file;
    }
}
