package io.peftfoundry.artifacts.rest;

import io.peftfoundry.artifacts.JobApiStub;
import io.peftfoundry.artifacts.TestArtifacts;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import static io.peftfoundry.artifacts.TestArtifacts.KEY_A;
import static io.peftfoundry.artifacts.TestArtifacts.KEY_B;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(JobApiStub.class)
class ModelsResourceTest {

    /** A tiny but well-formed BERT layout: 2 tensors (10 + 3·4 = 22 parameters). */
    static Map<String, byte[]> tinyBert(String modelType) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", TestArtifacts.utf8("{\"model_type\":\"" + modelType + "\",\"hidden_size\":4,"
                + "\"num_hidden_layers\":1,\"vocab_size\":3}"));
        files.put("model.safetensors", TestArtifacts.safetensors(Map.of(
                "embeddings.word_embeddings.weight", new long[]{3, 4},
                "embeddings.LayerNorm.weight", new long[]{10})));
        files.put("tokenizer.json", TestArtifacts.utf8("{\"version\":\"1.0\",\"model\":{\"type\":\"WordPiece\"}}"));
        return files;
    }

    static Response register(Path zip, String name) {
        return given().header("Authorization", "Bearer " + KEY_A)
                .multiPart("file", zip.toFile(), "application/zip")
                .multiPart("name", name)
                .when().post("/v1/models");
    }

    @Test
    void wellFormedModelIsRegisteredAndFoundByIdAndName() throws Exception {
        String name = "tiny-bert-" + UUID.randomUUID().toString().substring(0, 8);
        String id = register(TestArtifacts.zip(tinyBert("bert")), name).then().statusCode(201)
                .body("object", equalTo("model"))
                .body("model_type", equalTo("bert"))
                .body("annotations.parameters", equalTo(22))
                .extract().path("id");
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/models").then().statusCode(200)
                .body("data.id", hasItem(id));
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/models/" + name).then().statusCode(200)
                .body("id", equalTo(id));
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/models/" + id).then().statusCode(404);
        register(TestArtifacts.zip(tinyBert("bert")), name).then().statusCode(409);
    }

    /**
     * A Qwen2-shaped bf16 checkpoint in two shards with chat_template.jinja: embed 8x4 (32) + q_proj 4x4 (16) + its bias
     * 4 in shard 1, norm 4 + lm_head 8x4 (32) in shard 2 = 88 parameters.
     */
    static Map<String, byte[]> shardedQwen2(boolean withSecondShard, String extraIndexTensor) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", TestArtifacts.utf8("{\"model_type\":\"qwen2\",\"hidden_size\":4,\"num_hidden_layers\":1,"
                + "\"vocab_size\":8,\"torch_dtype\":\"bfloat16\"}"));
        Map<String, long[]> s1 = new LinkedHashMap<>();
        s1.put("model.embed_tokens.weight", new long[] {8, 4});
        s1.put("model.layers.0.self_attn.q_proj.weight", new long[] {4, 4});
        s1.put("model.layers.0.self_attn.q_proj.bias", new long[] {4});
        Map<String, long[]> s2 = new LinkedHashMap<>();
        s2.put("model.norm.weight", new long[] {4});
        s2.put("lm_head.weight", new long[] {8, 4});
        files.put("model-00001-of-00002.safetensors", TestArtifacts.safetensors(s1, "BF16", 2));
        if (withSecondShard) {
            files.put("model-00002-of-00002.safetensors", TestArtifacts.safetensors(s2, "BF16", 2));
        }
        StringBuilder index = new StringBuilder("{\"metadata\":{\"total_size\":176},\"weight_map\":{");
        s1.keySet().forEach(k -> index.append('"').append(k).append("\":\"model-00001-of-00002.safetensors\","));
        s2.keySet().forEach(k -> index.append('"').append(k).append("\":\"model-00002-of-00002.safetensors\","));
        if (extraIndexTensor != null) {
            index.append('"').append(extraIndexTensor).append("\":\"model-00001-of-00002.safetensors\",");
        }
        index.setLength(index.length() - 1);
        files.put("model.safetensors.index.json", TestArtifacts.utf8(index.append("}}").toString()));
        files.put("tokenizer.json", TestArtifacts.utf8("{\"version\":\"1.0\",\"model\":{\"type\":\"BPE\"}}"));
        files.put("tokenizer_config.json", TestArtifacts.utf8("{\"eos_token\":\"<|im_end|>\"}"));
        files.put("chat_template.jinja", TestArtifacts.utf8("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"));
        return files;
    }

    @Test
    void shardedBf16ModelWithChatTemplateReportsFamilyParametersAndDtype() throws Exception {
        String name = "tiny-qwen2-" + UUID.randomUUID().toString().substring(0, 8);
        register(TestArtifacts.zip(shardedQwen2(true, null)), name).then().statusCode(201)
                .body("family", equalTo("qwen2"))
                .body("parameters", equalTo(88))
                .body("dtype", equalTo("BF16"))
                .body("chat_template", equalTo(true))
                .body("annotations.shards", equalTo(2))
                .body("annotations.tensors", equalTo(5));
        // a single-file F32 BERT has no template
        register(TestArtifacts.zip(tinyBert("bert")), "b-" + name).then().statusCode(201)
                .body("dtype", equalTo("F32")).body("chat_template", equalTo(false)).body("annotations.shards", equalTo(1));
    }

    @Test
    void zipStreamedAsTheRawBodyIsRegisteredWithTheSameDigestAsItsBytes() throws Exception {
        String name = "raw-qwen2-" + UUID.randomUUID().toString().substring(0, 8);
        byte[] zip = java.nio.file.Files.readAllBytes(TestArtifacts.zip(shardedQwen2(true, null)));
        String digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zip));
        given().header("Authorization", "Bearer " + KEY_A).contentType("application/zip").body(zip)
                .queryParam("name", name).when().post("/v1/models").then().statusCode(201)
                .body("family", equalTo("qwen2")).body("dtype", equalTo("BF16")).body("parameters", equalTo(88))
                .body("digest", equalTo("sha256:" + digest)).body("bytes", equalTo(zip.length));
        byte[] back = given().header("Authorization", "Bearer " + KEY_A).get("/v1/models/" + name + "/content").then()
                .statusCode(200).extract().asByteArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(zip, back);
        // over the upload limit (1 MiB in tests) without Content-Length: refused while streaming, nothing stored
        byte[] big = new byte[(1 << 20) + 4096];
        given().header("Authorization", "Bearer " + KEY_A).contentType("application/zip")
                .body(new java.io.ByteArrayInputStream(big)).queryParam("name", name + "-big").when().post("/v1/models").then()
                .statusCode(413);
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/models/" + name + "-big").then().statusCode(404);
    }

    @jakarta.inject.Inject
    io.peftfoundry.artifacts.storage.BlobStore blobs;

    /** True once no object's key starts with {@code prefix} (S3Proxy's leftovers are removed a moment after a break). */
    private boolean eventuallyNothingListedUnder(String prefix) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            try {
                if (!blobs.client().listObjects(io.minio.ListObjectsArgs.builder().bucket(blobs.bucket()).prefix(prefix).build())
                        .iterator().hasNext()) {
                    return true;
                }
            } catch (RuntimeException listingFailed) {
                // a leftover without S3Proxy's metadata makes the listing fail: not gone yet
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** The RFC 9530 header for these bytes. */
    static String contentDigest(byte[] bytes) throws Exception {
        return "sha-256=:" + java.util.Base64.getEncoder().encodeToString(
                java.security.MessageDigest.getInstance("SHA-256").digest(bytes)) + ":";
    }

    static String sha256Hex(byte[] bytes) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** A model zip no other test uploads (a README with a fresh id), so its blob is not there yet. */
    static byte[] uniqueZip(Map<String, byte[]> files) throws Exception {
        files.put("README.md", TestArtifacts.utf8("model " + UUID.randomUUID()));
        return java.nio.file.Files.readAllBytes(TestArtifacts.zip(files));
    }

    static Response postRaw(byte[] zip, String name, String contentDigest) {
        return given().header("Authorization", "Bearer " + KEY_A).header("Content-Digest", contentDigest)
                .contentType("application/zip").body(zip).queryParam("name", name).when().post("/v1/models");
    }

    @Test
    void aRawBodyWithAMatchingContentDigestIsStoredUnderThatDigestAndDownloadsIdentically() throws Exception {
        String name = "declared-" + UUID.randomUUID().toString().substring(0, 8);
        byte[] zip = uniqueZip(shardedQwen2(true, null));
        String hex = sha256Hex(zip);
        org.junit.jupiter.api.Assertions.assertTrue(blobs.size(hex).isEmpty(), "not stored before the upload");
        postRaw(zip, name, contentDigest(zip)).then().statusCode(201)
                .body("digest", equalTo("sha256:" + hex)).body("bytes", equalTo(zip.length)).body("family", equalTo("qwen2"));
        org.junit.jupiter.api.Assertions.assertEquals(zip.length, blobs.size(hex).getAsLong());
        byte[] back = given().header("Authorization", "Bearer " + KEY_A).get("/v1/models/" + name + "/content").then()
                .statusCode(200).extract().asByteArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(zip, back);
    }

    @Test
    void aRawBodyWhoseContentDigestDoesNotMatchIsRefusedAndNothingIsStoredUnderEitherDigest() throws Exception {
        String name = "mismatch-" + UUID.randomUUID().toString().substring(0, 8);
        byte[] zip = uniqueZip(shardedQwen2(true, null));
        byte[] other = uniqueZip(shardedQwen2(true, null));
        postRaw(zip, name, contentDigest(other)).then().statusCode(400)
                .body("type", equalTo("/problems/digest-mismatch"))
                .body("detail", containsString(sha256Hex(zip)));
        org.junit.jupiter.api.Assertions.assertTrue(blobs.size(sha256Hex(other)).isEmpty(), "nothing under the declared digest");
        org.junit.jupiter.api.Assertions.assertTrue(eventuallyNothingListedUnder(
                io.peftfoundry.artifacts.storage.BlobStore.keyFor(sha256Hex(other))), "nothing left starting with the key");
        org.junit.jupiter.api.Assertions.assertTrue(blobs.size(sha256Hex(zip)).isEmpty(), "nothing under the actual digest");
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/models/" + name).then().statusCode(404);
    }

    @Test
    void aModelThatFailsInspectionAfterItsBytesWereSentLeavesNoBlobUnderItsDigest() throws Exception {
        Map<String, byte[]> files = tinyBert("bert");
        files.remove("tokenizer.json");
        byte[] zip = uniqueZip(files);
        postRaw(zip, "declared-no-tokenizer", contentDigest(zip)).then().statusCode(400)
                .body("type", equalTo("/problems/invalid-model")).body("detail", containsString("tokenizer.json"));
        org.junit.jupiter.api.Assertions.assertTrue(blobs.size(sha256Hex(zip)).isEmpty(), "the held-back put was abandoned");
        org.junit.jupiter.api.Assertions.assertTrue(eventuallyNothingListedUnder(
                io.peftfoundry.artifacts.storage.BlobStore.keyFor(sha256Hex(zip))), "nothing left starting with the key");
    }

    @Test
    void aContentDigestThatIsNotTheBase64OfThirtyTwoBytesIsRefused() throws Exception {
        byte[] zip = uniqueZip(tinyBert("bert"));
        postRaw(zip, "bad-digest-header", "sha-256=:c2hvcnQ=:").then().statusCode(400)
                .body("type", equalTo("/problems/invalid-header"));
        org.junit.jupiter.api.Assertions.assertTrue(blobs.size(sha256Hex(zip)).isEmpty());
    }

    @Test
    void shardedModelWithAMissingShardOrTensorIsRejectedNamingIt() throws Exception {
        register(TestArtifacts.zip(shardedQwen2(false, null)), "q-missing").then().statusCode(400)
                .body("detail", containsString("model-00002-of-00002.safetensors missing"))
                .body("errors[0].field", equalTo("model-00002-of-00002.safetensors"));
        register(TestArtifacts.zip(shardedQwen2(true, "model.layers.0.mlp.up_proj.weight")), "q-tensor").then().statusCode(400)
                .body("detail", containsString("does not hold tensor 'model.layers.0.mlp.up_proj.weight'"));
    }

    @Test
    void zipWithoutTokenizerIsRejectedNamingTheFile() throws Exception {
        Map<String, byte[]> files = tinyBert("bert");
        files.remove("tokenizer.json");
        register(TestArtifacts.zip(files), "no-tokenizer").then().statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("type", equalTo("/problems/invalid-model"))
                .body("detail", containsString("tokenizer.json"))
                .body("errors[0].field", equalTo("tokenizer.json"));
    }

    @Test
    void unsupportedArchitectureIsRejected() throws Exception {
        register(TestArtifacts.zip(tinyBert("t5")), "a-t5").then().statusCode(400)
                .body("detail", containsString("unsupported architecture"))
                .body("detail", containsString("'t5'"));
    }

    @Test
    void zipSlipEntriesAreRefused() throws Exception {
        Map<String, byte[]> files = tinyBert("bert");
        files.put("../../evil.sh", TestArtifacts.utf8("#!/bin/sh\n"));
        register(TestArtifacts.zip(files), "slippery").then().statusCode(400)
                .body("type", equalTo("/problems/invalid-archive"))
                .body("detail", containsString("zip-slip"));
    }

    @Test
    void notAZipIsRejected() throws Exception {
        Path notZip = java.nio.file.Files.createTempFile("x", ".zip");
        java.nio.file.Files.writeString(notZip, "hello");
        register(notZip, "not-a-zip").then().statusCode(400).body("type", equalTo("/problems/invalid-archive"));
    }

    /**
     * Issue 14 finding 6: a platform key (the worker's) resolves a model name in the job's tenant ({@code ?tenant=}),
     * not in its own; a tenant's key cannot borrow that parameter.
     */
    @Test
    void aPlatformKeyResolvesAModelNameInTheNamedTenant() throws Exception {
        String name = "tenant-model-" + UUID.randomUUID().toString().substring(0, 8);
        String id = register(TestArtifacts.zip(tinyBert("bert")), name).then().statusCode(201).extract().path("id");
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_ADMIN)
                .get("/v1/models/" + name + "?tenant=tenant-a").then().statusCode(200)
                .body("id", equalTo(id));
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_ADMIN)
                .get("/v1/models/" + name + "?tenant=tenant-b").then().statusCode(404);
        given().header("Authorization", "Bearer " + KEY_B)
                .get("/v1/models/" + name + "?tenant=tenant-a").then().statusCode(403);
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_ADMIN)
                .get("/v1/models/" + id + "?tenant=tenant-b").then().statusCode(404);
    }
}
