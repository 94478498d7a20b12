package io.peftfoundry.artifacts.rest;

import io.minio.ListObjectsArgs;
import io.minio.PutObjectArgs;
import io.minio.GetObjectArgs;
import io.minio.Result;
import io.minio.messages.Item;
import io.peftfoundry.artifacts.storage.BlobStore;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static io.peftfoundry.artifacts.TestArtifacts.KEY_A;
import static io.peftfoundry.artifacts.TestArtifacts.KEY_ADMIN;
import static io.peftfoundry.artifacts.TestArtifacts.KEY_B;
import static io.peftfoundry.artifacts.TestArtifacts.classification;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(io.peftfoundry.artifacts.JobApiStub.class)
class FilesResourceTest {

    @Inject
    BlobStore blobs;

    static Response upload(String key, byte[] content, String purpose, String task) {
        var spec = given().header("Authorization", "Bearer " + key)
                .multiPart("file", "train.jsonl", content, "application/jsonl")
                .multiPart("purpose", purpose);
        if (task != null) {
            spec = spec.multiPart("task", task);
        }
        return spec.when().post("/v1/files");
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void uploadListDownloadGivesIdenticalBytes() throws Exception {
        byte[] content = classification(50).getBytes(StandardCharsets.UTF_8);
        String id = upload(KEY_A, content, "fine-tune", "classification").then()
                .statusCode(201)
                .body("object", equalTo("file"))
                .body("bytes", equalTo(content.length))
                .body("line_count", equalTo(50))
                .body("labels", contains("neg", "pos"))
                .body("task", equalTo("classification"))
                .body("digest", equalTo("sha256:" + sha256(content)))
                .extract().path("id");

        given().header("Authorization", "Bearer " + KEY_A).get("/v1/files").then()
                .statusCode(200).body("object", equalTo("list")).body("data.id", hasItem(id));
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/files/" + id).then()
                .statusCode(200).body("id", equalTo(id)).body("purpose", equalTo("fine-tune"));
        byte[] downloaded = given().header("Authorization", "Bearer " + KEY_A).get("/v1/files/" + id + "/content")
                .then().statusCode(200).extract().asByteArray();
        assertArrayEquals(content, downloaded);
    }

    /**
     * The OpenAI cursor paging every list endpoint shares: walking tenant B's files two at a time by {@code last_id}
     * gives exactly the one-page answer (limit 100), newest first, with {@code has_more} false only on the last page.
     */
    @Test
    void filesPageByLastIdLikeTheOpenAiClientsFollowThem() {
        for (int i = 0; i < 5; i++) {
            upload(KEY_B, classification(4 + i).getBytes(StandardCharsets.UTF_8), "fine-tune", null).then().statusCode(201);
        }
        List<String> all = given().header("Authorization", "Bearer " + KEY_B).get("/v1/files?limit=100").then()
                .statusCode(200).body("has_more", equalTo(false)).extract().path("data.id");
        org.junit.jupiter.api.Assumptions.assumeTrue(all.size() < 100, "tenant B has more than one page of 100 already");
        List<String> walked = new ArrayList<>();
        String after = null;
        int pages = 0;
        while (true) {
            var page = given().header("Authorization", "Bearer " + KEY_B)
                    .get("/v1/files?limit=2" + (after == null ? "" : "&after=" + after)).then().statusCode(200)
                    .body("object", equalTo("list")).extract().jsonPath();
            List<String> ids = page.getList("data.id");
            pages++;
            walked.addAll(ids);
            assertEquals(ids.get(0), page.getString("first_id"));
            assertEquals(ids.get(ids.size() - 1), page.getString("last_id"));
            if (!page.getBoolean("has_more")) {
                break;
            }
            after = page.getString("last_id");
        }
        assertEquals(all, walked);
        assertEquals((all.size() + 1) / 2, pages);
        List<Number> created = given().header("Authorization", "Bearer " + KEY_B).get("/v1/files?limit=100").then()
                .extract().path("data.created_at");
        for (int i = 1; i < created.size(); i++) {
            org.junit.jupiter.api.Assertions.assertTrue(created.get(i - 1).longValue() >= created.get(i).longValue(), "newest first");
        }
    }

    @Test
    void aBadLimitOrAfterIsA400NamingTheParameter() {
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files?limit=0").then().statusCode(400)
                .body("errors[0].field", equalTo("limit")).body("error.param", equalTo("limit"))
                .body("error.type", equalTo("invalid_request_error"));
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files?limit=101").then().statusCode(400)
                .body("error.param", equalTo("limit"));
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files?after=file-nosuch").then().statusCode(400)
                .body("error.param", equalTo("after")).body("detail", containsString("file-nosuch"));
        // another tenant's file is no cursor either (it is not in this tenant's list)
        String theirs = upload(KEY_A, classification(3).getBytes(StandardCharsets.UTF_8), "fine-tune", null).then()
                .statusCode(201).extract().path("id");
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files?after=" + theirs).then().statusCode(400)
                .body("error.param", equalTo("after"));
    }

    @Test
    void identicalUploadsShareOneBlob() throws Exception {
        byte[] content = classification(10).getBytes(StandardCharsets.UTF_8);
        String first = upload(KEY_A, content, "fine-tune", null).then().statusCode(201).extract().path("id");
        String second = upload(KEY_B, content, "eval", null).then().statusCode(201).extract().path("id");
        assertNotEquals(first, second);

        String key = BlobStore.keyFor(sha256(content));
        List<String> objects = new ArrayList<>();
        for (Result<Item> r : blobs.client().listObjects(ListObjectsArgs.builder()
                .bucket(blobs.bucket()).prefix(key).recursive(true).build())) {
            objects.add(r.get().objectName());
        }
        assertEquals(List.of(key), objects, "two uploads of the same bytes are stored as one blob");
        byte[] viaB = given().header("Authorization", "Bearer " + KEY_B).get("/v1/files/" + second + "/content")
                .then().statusCode(200).extract().asByteArray();
        assertArrayEquals(content, viaB);
    }

    @Test
    void flippedByteInStoredBlobIsDetectedOnRead() throws Exception {
        byte[] content = classification(20).getBytes(StandardCharsets.UTF_8);
        String id = upload(KEY_A, content, "fine-tune", null).then().statusCode(201).extract().path("id");
        String key = BlobStore.keyFor(sha256(content));
        byte[] stored;
        try (InputStream in = blobs.client().getObject(GetObjectArgs.builder().bucket(blobs.bucket()).object(key).build())) {
            stored = in.readAllBytes();
        }
        stored[stored.length / 2] ^= 0x01;
        blobs.client().putObject(PutObjectArgs.builder().bucket(blobs.bucket()).object(key)
                .stream(new ByteArrayInputStream(stored), stored.length, -1).build());

        given().header("Authorization", "Bearer " + KEY_A).get("/v1/files/" + id + "/content").then()
                .statusCode(500)
                .contentType(containsString("application/problem+json"))
                .body("type", equalTo("/problems/blob-integrity"))
                .body("detail", containsString(id));
    }

    @Test
    void largeBlobIsStreamedVerifiedAndACorruptedOneIsCutBeforeItsTail() throws Exception {
        // ~0.9 MiB (under the tests' 1 MiB upload limit): streamed straight from S3 (no scratch file), the last
        // 64 KiB (foundry.artifacts.verify-tail-bytes in the test profile) held back until the digest matches
        int tail = 65536;
        byte[] content = classification(12_000).getBytes(StandardCharsets.UTF_8);
        org.junit.jupiter.api.Assertions.assertTrue(content.length > 4 * tail && content.length < 1 << 20, "size " + content.length);
        String id = upload(KEY_A, content, "fine-tune", null).then().statusCode(201).extract().path("id");
        byte[] served = given().header("Authorization", "Bearer " + KEY_A).get("/v1/files/" + id + "/content").then()
                .statusCode(200).header("X-Content-SHA256", sha256(content)).extract().asByteArray();
        assertArrayEquals(content, served);

        String key = BlobStore.keyFor(sha256(content));
        byte[] stored = content.clone();
        stored[10] ^= 0x01; // early in the blob: those bytes have been sent when the mismatch is known
        blobs.client().putObject(PutObjectArgs.builder().bucket(blobs.bucket()).object(key)
                .stream(new ByteArrayInputStream(stored), stored.length, -1).build());
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) new java.net.URL(
                "http://127.0.0.1:" + io.restassured.RestAssured.port + "/v1/files/" + id + "/content").openConnection();
        c.setRequestProperty("Authorization", "Bearer " + KEY_A);
        assertEquals(200, c.getResponseCode());
        assertEquals(content.length, c.getContentLengthLong());
        long received = 0;
        try (InputStream in = c.getInputStream()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                received += n;
            }
        } catch (java.io.IOException expected) {
            // the connection is closed short of Content-Length: the client sees an error, never a complete body
        }
        org.junit.jupiter.api.Assertions.assertTrue(received <= content.length - tail,
                "received " + received + " of " + content.length + " bytes of a corrupted blob");
    }

    @Test
    void malformedDatasetsAreRejectedWithLineNumbers() {
        // line 2: bad JSON; line 3: label missing; line 5: empty text (line 4 is blank, ignored)
        String bad = "{\"text\":\"fine\",\"label\":\"a\"}\n"
                + "{\"text\": \"oops\", \"label\": \n"
                + "{\"text\":\"no label\"}\n"
                + "\n"
                + "{\"text\":\"\",\"label\":\"b\"}\n"
                + "{\"text\":\"ok\",\"label\":\"b\"}\n";
        upload(KEY_A, bad.getBytes(StandardCharsets.UTF_8), "fine-tune", "classification").then()
                .statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("type", equalTo("/problems/invalid-dataset"))
                .body("status", equalTo(400))
                .body("errors.line", contains(2, 3, 5))
                .body("errors[0].message", containsString("invalid JSON"))
                .body("errors[1].field", equalTo("label"))
                .body("errors[1].message", equalTo("missing"))
                .body("errors[2].field", equalTo("text"))
                .body("errors[2].message", equalTo("empty"));

        // a single label is not a classification dataset
        upload(KEY_A, "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"x\"}\n".getBytes(StandardCharsets.UTF_8),
                "fine-tune", "classification").then()
                .statusCode(400)
                .body("errors[0].field", equalTo("label"))
                .body("errors[0].message", containsString("at least 2 distinct labels"));

        // sft declared, classification fields given: both required fields reported on line 1
        upload(KEY_A, "{\"text\":\"a\",\"label\":\"x\"}\n".getBytes(StandardCharsets.UTF_8), "fine-tune", "sft").then()
                .statusCode(400)
                .body("errors.field", contains("prompt", "completion"))
                .body("errors.line", contains(1, 1));

        // a JSON array and a non-string completion
        upload(KEY_A, "[1,2]\n{\"prompt\":\"p\",\"completion\":7}\n".getBytes(StandardCharsets.UTF_8), "fine-tune", "sft").then()
                .statusCode(400)
                .body("errors.line", contains(1, 2))
                .body("errors[0].message", containsString("expected a JSON object"))
                .body("errors[1].message", containsString("must be a string"));
    }

    @Test
    void rejectedDatasetStoresNothing() throws Exception {
        String bad = "{\"text\":\"only\",\"label\":\"one-" + java.util.UUID.randomUUID() + "\"}\n";
        upload(KEY_A, bad.getBytes(StandardCharsets.UTF_8), "fine-tune", null).then().statusCode(400);
        String key = BlobStore.keyFor(sha256(bad.getBytes(StandardCharsets.UTF_8)));
        boolean any = blobs.client().listObjects(ListObjectsArgs.builder().bucket(blobs.bucket()).prefix(key).build())
                .iterator().hasNext();
        assertEquals(false, any, "a rejected upload leaves no blob");
    }

    @Test
    void bomCrlfAndBlankLinesAreAccepted() {
        String content = "\uFEFF{\"prompt\":\"Q1\",\"completion\":\"A1\"}\r\n\r\n"
                + "{\"prompt\":\"Q2 " + java.util.UUID.randomUUID() + "\",\"completion\":\"A2\"}\r\n   \r\n";
        upload(KEY_A, content.getBytes(StandardCharsets.UTF_8), "fine-tune", null).then()
                .statusCode(201)
                .body("task", equalTo("sft"))
                .body("line_count", equalTo(2));
    }

    @Test
    void plainTextIsContinuedPretraining() {
        String content = "The quick brown fox.\nJumps over " + java.util.UUID.randomUUID() + ".\n";
        upload(KEY_A, content.getBytes(StandardCharsets.UTF_8), "fine-tune", "continued_pretraining").then()
                .statusCode(201)
                .body("task", equalTo("continued_pretraining"))
                .body("line_count", equalTo(2))
                .body("media_type", equalTo("text/plain"));
    }

    @Test
    void otherTenantsGet404AndAdminsSeeAll() {
        String id = upload(KEY_A, classification(4).getBytes(StandardCharsets.UTF_8), "fine-tune", null)
                .then().statusCode(201).extract().path("id");
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files/" + id).then().statusCode(404)
                .contentType(containsString("application/problem+json"));
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files/" + id + "/content").then().statusCode(404);
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/files").then().statusCode(200)
                .body("data.id", not(hasItem(id)));
        given().header("Authorization", "Bearer " + KEY_ADMIN).get("/v1/files/" + id).then().statusCode(200);
    }

    @Test
    void missingOrUnknownKeyIs401() {
        given().get("/v1/files").then().statusCode(401)
                .contentType(containsString("application/problem+json"))
                .body("title", equalTo("Unauthorized"));
        // not a static key, and job-api (stub) answers 401 for it
        given().header("Authorization", "Bearer nobody").get("/v1/files").then().statusCode(401);
    }

    @Test
    void keysUnknownLocallyAreResolvedByJobApiAndCached() {
        String key = io.peftfoundry.artifacts.JobApiStub.KEY_C;
        int before = io.peftfoundry.artifacts.JobApiStub.WHOAMI_CALLS.get();
        String id = upload(key, classification(4).getBytes(StandardCharsets.UTF_8), "fine-tune", null)
                .then().statusCode(201).extract().path("id");
        given().header("Authorization", "Bearer " + key).get("/v1/files/" + id).then().statusCode(200);
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/files/" + id).then().statusCode(404);
        // two requests with the key, one introspection: the positive answer is cached (foundry.auth.cache-ttl)
        assertEquals(before + 1, io.peftfoundry.artifacts.JobApiStub.WHOAMI_CALLS.get());
    }

    /** The typed whoami client retries a 5xx (SmallRye Fault Tolerance on the REST client interface). */
    @Test
    void aJobApi503IsRetriedByTheTypedClient() {
        int before = io.peftfoundry.artifacts.JobApiStub.WHOAMI_CALLS.get();
        given().header("Authorization", "Bearer " + io.peftfoundry.artifacts.JobApiStub.FLAKY_KEY).get("/v1/files")
                .then().statusCode(200);
        assertEquals(before + 2, io.peftfoundry.artifacts.JobApiStub.WHOAMI_CALLS.get(), "503, then 200");
    }

    @Test
    void uploadOverTheLimitIs413WithTheLimit() {
        // %test limit is 1 MiB (1048576 bytes); this dataset is one line over it
        StringBuilder sb = new StringBuilder();
        while (sb.length() <= 1048576) {
            sb.append("{\"text\":\"padding padding padding padding\",\"label\":\"").append(sb.length() % 2).append("\"}\n");
        }
        upload(KEY_A, sb.toString().getBytes(StandardCharsets.UTF_8), "fine-tune", null).then()
                .statusCode(413)
                .contentType(containsString("application/problem+json"))
                .body("detail", containsString("1048576"));
    }

    @io.quarkus.test.common.http.TestHTTPResource("/")
    java.net.URL base;

    @Test
    void announcedOversizedUploadIs413BeforeTheBodyIsSent() throws Exception {
        // only the headers are sent: the answer must come without reading (or waiting for) the 10 GB body
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(30_000);
            String head = "POST /v1/files HTTP/1.1\r\nHost: " + base.getHost() + "\r\n"
                    + "Authorization: Bearer " + KEY_A + "\r\n"
                    + "Content-Type: multipart/form-data; boundary=xyz\r\n"
                    + "Content-Length: 10000000000\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            // read what arrives until the problem body is complete (the connection may stay open)
            StringBuilder received = new StringBuilder();
            byte[] buf = new byte[4096];
            while (!received.toString().contains("}")) {
                int n = socket.getInputStream().read(buf);
                if (n < 0) {
                    break;
                }
                received.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            String response = received.toString();
            org.junit.jupiter.api.Assertions.assertTrue(response.startsWith("HTTP/1.1 413"), response);
            org.junit.jupiter.api.Assertions.assertTrue(response.contains("application/problem+json"), response);
            org.junit.jupiter.api.Assertions.assertTrue(response.contains("1048576"), response);
        }
    }

    @Test
    void badPurposeAndTaskAreNamed() {
        upload(KEY_A, classification(2).getBytes(StandardCharsets.UTF_8), "training", null).then()
                .statusCode(400).body("errors[0].field", equalTo("purpose"));
        upload(KEY_A, classification(2).getBytes(StandardCharsets.UTF_8), "fine-tune", "regression").then()
                .statusCode(400).body("errors[0].field", equalTo("task"));
    }

    @Test
    void presignedUrlServesTheBytes() throws Exception {
        byte[] content = classification(6).getBytes(StandardCharsets.UTF_8);
        String id = upload(KEY_A, content, "fine-tune", null).then().statusCode(201).extract().path("id");
        Map<String, Object> presigned = given().header("Authorization", "Bearer " + KEY_A)
                .get("/v1/files/" + id + "/content?presign=true").then().statusCode(200).extract().as(Map.class);
        String url = (String) presigned.get("url");
        long expiresAt = ((Number) presigned.get("expires_at")).longValue();
        org.junit.jupiter.api.Assertions.assertTrue(expiresAt > System.currentTimeMillis() / 1000);
        var response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode());
        assertArrayEquals(content, response.body());
    }
}
