package io.peftfoundry.artifacts.rest;

import com.fasterxml.jackson.databind.JsonNode;
import io.minio.GetObjectArgs;
import io.minio.PutObjectArgs;
import io.peftfoundry.artifacts.JobApiStub;
import io.peftfoundry.artifacts.TestArtifacts;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.artifacts.client.ArtifactStoreException;
import io.peftfoundry.artifacts.storage.BlobStore;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The artifact-client (used by trainer-worker and eval-service) against the running service. */
@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(JobApiStub.class)
class ArtifactClientTest {

    @TestHTTPResource("/")
    URL base;

    @Inject
    BlobStore blobs;

    @Test
    void uploadThenDownloadIntoTheDigestCacheAndReuseIt() throws Exception {
        ArtifactClient client = new ArtifactClient(base.toString(), TestArtifacts.KEY_A);
        Path file = Files.createTempFile("train", ".jsonl");
        Files.writeString(file, TestArtifacts.classification(30));
        JsonNode uploaded = client.uploadFile(file, "fine-tune", "classification");
        String id = uploaded.path("id").asText();
        String hex = uploaded.path("digest").asText().substring("sha256:".length());

        Path cache = Files.createTempDirectory("cache");
        Path first = client.downloadFile(id, cache);
        assertEquals(cache.resolve("sha256").resolve(hex), first);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(first));

        // corrupt the stored blob: the cached copy (digest intact) is reused without fetching content,
        // while a fetch through the service would be refused
        String key = BlobStore.keyFor(hex);
        byte[] stored;
        try (InputStream in = blobs.client().getObject(GetObjectArgs.builder().bucket(blobs.bucket()).object(key).build())) {
            stored = in.readAllBytes();
        }
        stored[0] ^= 0x20;
        blobs.client().putObject(PutObjectArgs.builder().bucket(blobs.bucket()).object(key)
                .stream(new ByteArrayInputStream(stored), stored.length, -1).build());
        Path second = client.downloadFile(id, cache);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(second));

        Path emptyCache = Files.createTempDirectory("cache2");
        ArtifactStoreException e = assertThrows(ArtifactStoreException.class, () -> client.downloadFile(id, emptyCache));
        assertEquals(500, e.status());
        assertTrue(e.problem().contains("blob-integrity"), e.problem());
    }

    @Test
    void adapterAndCheckpointRoundTrip() throws Exception {
        ArtifactClient client = new ArtifactClient(base.toString(), TestArtifacts.KEY_A);
        Path adapterDir = Files.createTempDirectory("adapter");
        for (Map.Entry<String, byte[]> f : TestArtifacts.loraAdapter(Map.of(), "null").entrySet()) {
            Files.write(adapterDir.resolve(f.getKey()), f.getValue());
        }
        Map<String, String> lineage = new LinkedHashMap<>();
        lineage.put("job_id", "ftjob-client");
        lineage.put("base_model", "all-minilm-l6-v2");
        lineage.put("method", "lora");
        lineage.put("parent_adapter", null);
        String adapterId = client.uploadAdapter(adapterDir, lineage).path("id").asText();
        Path unpacked = client.downloadAdapter(adapterId, Files.createTempDirectory("cache"), Files.createTempDirectory("out"));
        assertArrayEquals(Files.readAllBytes(adapterDir.resolve("adapter_model.safetensors")),
                Files.readAllBytes(unpacked.resolve("adapter_model.safetensors")));

        String job = "ftjob-" + UUID.randomUUID();
        io.peftfoundry.artifacts.JobApiStub.JOBS.put(job, "tenant-a");
        assertTrue(client.latestCheckpoint(job).isEmpty());
        Path ckpt = Files.createTempDirectory("ckpt");
        Files.writeString(ckpt.resolve("optimizer.bin"), "step-10");
        client.uploadCheckpoint(job, 1, 10, ckpt);
        Files.writeString(ckpt.resolve("optimizer.bin"), "step-20");
        client.uploadCheckpoint(job, 1, 20, ckpt);
        JsonNode latest = client.latestCheckpoint(job).orElseThrow();
        assertEquals(20, latest.path("step").asLong());
        Path restored = client.downloadCheckpoint(latest, Files.createTempDirectory("cache"), Files.createTempDirectory("restore"));
        assertEquals("step-20", Files.readString(restored.resolve("optimizer.bin")));
    }

    @Test
    void clientErrorsAreNotRetriedAndCarryTheProblem() throws Exception {
        ArtifactClient client = new ArtifactClient(base.toString(), "wrong-key", 3, Duration.ofMillis(10), Duration.ofSeconds(30));
        ArtifactStoreException e = assertThrows(ArtifactStoreException.class, () -> client.getFile("file-x"));
        assertEquals(401, e.status());
    }

    @Test
    void connectErrorsAreRetriedThenReported() {
        // nothing listens on port 1 of loopback: 3 tries, then the connect error surfaces
        ArtifactClient client = new ArtifactClient("http://127.0.0.1:1", TestArtifacts.KEY_A, 3, Duration.ofMillis(10), Duration.ofSeconds(5));
        assertThrows(java.net.ConnectException.class, () -> client.getFile("file-x"));
    }
}
