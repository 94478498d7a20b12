package io.peftfoundry.artifacts.client;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Retry policy and zip safety, against a small local HTTP server that plays a flaky store. */
class ArtifactClientRetryTest {

    private HttpServer server;
    private final AtomicInteger calls = new AtomicInteger();
    private volatile int failuresBeforeSuccess;
    private volatile int failureStatus;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/files/file-1", exchange -> {
            int n = calls.incrementAndGet();
            boolean fail = n <= failuresBeforeSuccess;
            byte[] body = (fail ? "{\"status\":" + failureStatus + "}" : "{\"id\":\"file-1\",\"object\":\"file\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(fail ? failureStatus : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private ArtifactClient client(int attempts) {
        return new ArtifactClient("http://127.0.0.1:" + server.getAddress().getPort(), "k", attempts,
                Duration.ofMillis(1), Duration.ofSeconds(10));
    }

    @Test
    void serverErrorsAreRetriedUntilSuccess() throws IOException {
        failuresBeforeSuccess = 2;
        failureStatus = 503;
        assertEquals("file-1", client(3).getFile("file-1").path("id").asText());
        assertEquals(3, calls.get());
    }

    @Test
    void retriesAreBounded() {
        failuresBeforeSuccess = 100;
        failureStatus = 500;
        ArtifactStoreException e = assertThrows(ArtifactStoreException.class, () -> client(4).getFile("file-1"));
        assertEquals(500, e.status());
        assertEquals(4, calls.get());
    }

    @Test
    void clientErrorsAreNotRetried() {
        failuresBeforeSuccess = 100;
        failureStatus = 404;
        assertThrows(ArtifactStoreException.class, () -> client(4).getFile("file-1"));
        assertEquals(1, calls.get());
    }

    @Test
    void unzipRefusesEntriesThatEscapeTheTarget() throws IOException {
        Path zip = Files.createTempFile("slip", ".zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("../escaped.txt"));
            out.write("x".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        Path target = Files.createTempDirectory("target").resolve("inner");
        assertThrows(IOException.class, () -> ArtifactClient.unzip(zip, target));
        assertFalse(Files.exists(target.getParent().resolve("escaped.txt")));
    }

    @Test
    void zipDirectoryRoundTrips() throws IOException {
        Path dir = Files.createTempDirectory("dir");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("a.json"), "{}");
        Files.writeString(dir.resolve("sub/b.bin"), "bytes");
        Path zip = ArtifactClient.zipDirectory(dir);
        Path out = Files.createTempDirectory("out");
        ArtifactClient.unzip(zip, out);
        assertEquals("{}", Files.readString(out.resolve("a.json")));
        assertEquals("bytes", Files.readString(out.resolve("sub/b.bin")));
    }
}
