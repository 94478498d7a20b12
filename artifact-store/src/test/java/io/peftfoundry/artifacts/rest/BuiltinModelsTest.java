package io.peftfoundry.artifacts.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.JobApiStub;
import io.peftfoundry.artifacts.TestArtifacts;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.artifacts.validation.SafetensorsHeader;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one test with built-in import on (the demo decoder and MiniLM only, to keep it short): registered at start, the
 * encoder through peft-engine's importer, the decoder from this service's jar.
 */
@QuarkusTest
@TestProfile(BuiltinModelsTest.ImportMiniLm.class)
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(JobApiStub.class)
class BuiltinModelsTest {

    public static class ImportMiniLm implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("foundry.artifacts.import-builtin-models", "true",
                    "foundry.artifacts.builtin-models", "demo-decoder,all-minilm-l6-v2",
                    "foundry.artifacts.max-upload-bytes", "1073741824");
        }
    }

    @TestHTTPResource("/")
    URL base;

    @Test
    void miniLmIsImportedAndDownloadableAsAnHfLayout() throws Exception {
        // the import runs in the background; poll (bounded) until the model is registered
        int status = 404;
        for (int i = 0; i < 600 && status != 200; i++) {
            status = given().header("Authorization", "Bearer " + TestArtifacts.KEY_A).get("/v1/models/all-minilm-l6-v2")
                    .then().extract().statusCode();
            if (status != 200) {
                Thread.sleep(1000);
            }
        }
        assertEquals(200, status, "all-minilm-l6-v2 was not registered");
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_B).get("/v1/models/minilm-l6-v2").then()
                .statusCode(200)
                .body("name", equalTo("all-minilm-l6-v2"))
                .body("owned_by", equalTo("_builtin"))
                .body("model_type", equalTo("bert"))
                // 6 layers, hidden 384: the published 22.6M parameters (FACTS.md; no pooler)
                .body("annotations.num_hidden_layers", equalTo(6))
                .body("annotations.hidden_size", equalTo(384));

        ArtifactClient client = new ArtifactClient(base.toString(), TestArtifacts.KEY_A);
        Path cache = Files.createTempDirectory("cache");
        Path dir = client.downloadModel("minilm-l6-v2", cache, Files.createTempDirectory("model"));
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("bert", config.path("model_type").asText());
        assertTrue(Files.size(dir.resolve("tokenizer.json")) > 0);
        Path weights = dir.resolve("model.safetensors");
        try (InputStream in = Files.newInputStream(weights)) {
            SafetensorsHeader header = SafetensorsHeader.read(in, Files.size(weights), new ObjectMapper());
            // uncased WordPiece vocabulary of 30,522 tokens × hidden 384
            assertEquals(List.of(30522L, 384L), header.tensors().get("embeddings.word_embeddings.weight").shape());
        }
    }

    @Test
    void theDemoDecoderIsBuiltInWithItsLicenceAndLoadsAsTheRepositorysPretrainedDecoder() throws Exception {
        int status = 404;
        for (int i = 0; i < 600 && status != 200; i++) {
            status = given().header("Authorization", "Bearer " + TestArtifacts.KEY_B).get("/v1/models/demo-decoder")
                    .then().extract().statusCode();
            if (status != 200) {
                Thread.sleep(1000);
            }
        }
        assertEquals(200, status, "demo-decoder was not registered");
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_B).get("/v1/models/demo-decoder").then()
                .body("owned_by", equalTo("_builtin"))
                .body("model_type", equalTo("gpt2"))
                .body("annotations.license", equalTo("GFDL-1.1-or-later"))
                // GPT-2 layout, tied embeddings: 4096·128 + 128·128 positions + 4 blocks of (4·128² + 2·128·512 weights
                // + 9·128 + 512 biases and norm gains) + final norm 2·128 = 1,334,016 (pretrain-metrics.json)
                .body("annotations.parameters", equalTo(1_334_016));
        ArtifactClient client = new ArtifactClient(base.toString(), TestArtifacts.KEY_A);
        Path dir = client.downloadModel("demo-decoder", Files.createTempDirectory("cache"), Files.createTempDirectory("model"));
        // byte for byte the weights committed under demo/decoder/pretrained
        Path committed = Path.of("..", "demo", "decoder", "pretrained", "model.safetensors");
        assertEquals(-1L, Files.mismatch(committed, dir.resolve("model.safetensors")));
        assertTrue(Files.readString(dir.resolve("LICENSE")).contains("GNU Free Documentation License"));
        assertEquals("gpt2", new ObjectMapper().readTree(dir.resolve("config.json").toFile()).path("model_type").asText());
    }
}
