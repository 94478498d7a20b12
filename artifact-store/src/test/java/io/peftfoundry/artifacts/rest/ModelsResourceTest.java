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
}
