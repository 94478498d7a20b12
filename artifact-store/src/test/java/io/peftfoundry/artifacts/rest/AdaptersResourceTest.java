package io.peftfoundry.artifacts.rest;

import io.peftfoundry.artifacts.JobApiStub;
import io.peftfoundry.artifacts.TestArtifacts;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.peftfoundry.artifacts.TestArtifacts.KEY_A;
import static io.peftfoundry.artifacts.TestArtifacts.KEY_B;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(JobApiStub.class)
class AdaptersResourceTest {

    static final String LINEAGE = "{\"job_id\":\"ftjob-1\",\"base_model\":\"all-minilm-l6-v2\",\"method\":\"lora\","
            + "\"dataset_digest\":\"sha256:00\",\"parent_adapter\":null}";

    static Response upload(Path zip, String lineage) {
        return given().header("Authorization", "Bearer " + KEY_A)
                .multiPart("file", zip.toFile(), "application/zip")
                .multiPart("lineage", lineage)
                .when().post("/v1/adapters");
    }

    @Test
    void loraAdapterIsStoredWithLineageAndServedAsTheSameZip() throws Exception {
        Map<String, long[]> head = new LinkedHashMap<>();
        head.put("base_model.model.classifier.modules_to_save.default.weight", new long[]{2, 32});
        head.put("base_model.model.classifier.modules_to_save.default.bias", new long[]{2});
        Path zip = TestArtifacts.zip(TestArtifacts.loraAdapter(head, "[\"classifier\"]"));
        String id = upload(zip, LINEAGE).then().statusCode(201)
                .body("object", equalTo("adapter"))
                .body("job_id", equalTo("ftjob-1"))
                .body("lineage.base_model", equalTo("all-minilm-l6-v2"))
                .body("lineage.method", equalTo("lora"))
                .body("lineage.rank", equalTo(8))
                .body("lineage.format", equalTo("peft"))
                .extract().path("id");
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/adapters").then().statusCode(200)
                .body("data.id", hasItem(id));
        byte[] served = given().header("Authorization", "Bearer " + KEY_A).get("/v1/adapters/" + id + "/content")
                .then().statusCode(200).contentType("application/zip").extract().asByteArray();
        assertArrayEquals(Files.readAllBytes(zip), served);
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/adapters/" + id).then().statusCode(404);
    }

    @Test
    void adapterCarryingEmbeddingMatrixIsRefusedNamingTheTensor() throws Exception {
        String tensor = "base_model.model.embeddings.word_embeddings.weight";
        Path zip = TestArtifacts.zip(TestArtifacts.loraAdapter(Map.of(tensor, new long[]{30522, 32}), "null"));
        upload(zip, LINEAGE).then().statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("type", equalTo("/problems/invalid-adapter"))
                .body("detail", containsString(tensor))
                .body("errors.field", contains(tensor));
    }

    @Test
    void embeddingMatrixIsAllowedOnlyWhenListedInModulesToSave() throws Exception {
        String tensor = "base_model.model.embeddings.word_embeddings.modules_to_save.default.weight";
        Path saved = TestArtifacts.zip(TestArtifacts.loraAdapter(Map.of(tensor, new long[]{30522, 32}), "[\"word_embeddings\"]"));
        upload(saved, LINEAGE).then().statusCode(201);

        // a PEFT zip carrying an LM head is refused whatever the lineage says: 'full' needs a whole model directory
        Path peftWithHead = TestArtifacts.zip(TestArtifacts.loraAdapter(Map.of("lm_head.weight", new long[]{1000, 32}), "null"));
        upload(peftWithHead, LINEAGE).then().statusCode(400).body("errors.field", contains("lm_head.weight"));
        upload(peftWithHead, FULL_LINEAGE).then().statusCode(400)
                .body("type", equalTo("/problems/invalid-adapter"))
                .body("errors.field", contains("adapter_config.json"));
    }

    static final String FULL_LINEAGE = LINEAGE.replace("\"lora\"", "\"full\"").replace("ftjob-1", "ftjob-full");

    @Test
    void fullFineTuneIsStoredAsModelDirectoryAndServedAsTheSameZip() throws Exception {
        // 50-token vocabulary, hidden 8, 2 layers, 3 labels: tensors 50x8 + 8 + 2x(8x8) + 3x8 + 3 = 563 parameters
        Path zip = TestArtifacts.zip(TestArtifacts.fullModel(50, 8, 2, "neg", "neu", "pos"));
        String id = upload(zip, FULL_LINEAGE).then().statusCode(201)
                .body("object", equalTo("adapter"))
                .body("job_id", equalTo("ftjob-full"))
                .body("lineage.method", equalTo("full"))
                .body("lineage.format", equalTo("hf-model"))
                .body("lineage.model_type", equalTo("bert"))
                .body("lineage.labels", equalTo(3))
                .body("lineage.parameters", equalTo(563))
                .extract().path("id");
        byte[] served = given().header("Authorization", "Bearer " + KEY_A).get("/v1/adapters/" + id + "/content")
                .then().statusCode(200).contentType("application/zip").extract().asByteArray();
        assertArrayEquals(Files.readAllBytes(zip), served);
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/adapters/" + id).then().statusCode(404);
    }

    @Test
    void causalFullFineTuneIsADecoderDirectoryWithoutLabels() throws Exception {
        // 40 tokens, n_embd 8, 2 blocks: 40x8 + 16x8 + 2x(8x24) + 8 = 840 parameters
        String id = upload(TestArtifacts.zip(TestArtifacts.gpt2FullModel(40, 8, 2)), FULL_LINEAGE).then().statusCode(201)
                .body("lineage.format", equalTo("hf-model"))
                .body("lineage.model_type", equalTo("gpt2"))
                .body("lineage.parameters", equalTo(840))
                .extract().path("id");
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/adapters/" + id).then().statusCode(200);

        // a LLaMA directory names its parts otherwise: model.embed_tokens, model.layers.N, num_hidden_layers
        Map<String, long[]> llama = new java.util.LinkedHashMap<>();
        llama.put("model.embed_tokens.weight", new long[]{40, 8});
        llama.put("model.layers.0.self_attn.q_proj.weight", new long[]{8, 8});
        llama.put("model.norm.weight", new long[]{8});
        Map<String, byte[]> llamaFiles = TestArtifacts.gpt2FullModel(40, 8, 1);
        llamaFiles.put("config.json", TestArtifacts.utf8("{\"model_type\":\"llama\",\"vocab_size\":40,"
                + "\"hidden_size\":8,\"num_hidden_layers\":1}"));
        llamaFiles.put("model.safetensors", TestArtifacts.safetensors(llama));
        upload(TestArtifacts.zip(llamaFiles), FULL_LINEAGE).then().statusCode(201)
                .body("lineage.model_type", equalTo("llama"))
                .body("lineage.parameters", equalTo(40 * 8 + 64 + 8));

        Map<String, byte[]> threeBlocks = TestArtifacts.gpt2FullModel(40, 8, 2);
        threeBlocks.put("model.safetensors", TestArtifacts.gpt2FullModel(40, 8, 3).get("model.safetensors"));
        upload(TestArtifacts.zip(threeBlocks), FULL_LINEAGE).then().statusCode(400)
                .body("errors.field", contains("transformer.h"));
    }

    @Test
    void fullFineTuneMissingTokenizerOrInconsistentIsRefusedNamingTheFault() throws Exception {
        Map<String, byte[]> noTokenizer = TestArtifacts.fullModel(50, 8, 2, "neg", "pos");
        noTokenizer.remove("tokenizer.json");
        upload(TestArtifacts.zip(noTokenizer), FULL_LINEAGE).then().statusCode(400)
                .body("errors.field", contains("tokenizer.json"));

        // weights of a 3-layer, 60-token model under a config saying 2 layers and 50 tokens
        Map<String, byte[]> mismatched = TestArtifacts.fullModel(50, 8, 2, "neg", "pos");
        mismatched.put("model.safetensors", TestArtifacts.fullModel(60, 8, 3, "neg", "pos").get("model.safetensors"));
        upload(TestArtifacts.zip(mismatched), FULL_LINEAGE).then().statusCode(400)
                .body("errors.field", hasItem("bert.embeddings.word_embeddings.weight"))
                .body("errors.field", hasItem("bert.encoder.layer"));

        Map<String, byte[]> otherLabels = TestArtifacts.fullModel(50, 8, 2, "neg", "pos");
        otherLabels.put("labels.json", TestArtifacts.utf8("{\"id2label\":{\"0\":\"no\",\"1\":\"yes\"}}"));
        upload(TestArtifacts.zip(otherLabels), FULL_LINEAGE).then().statusCode(400)
                .body("errors.field", contains("labels.json/id2label"));
    }

    @Test
    void adapterZipWithoutConfigOrWeightsIsRefused() throws Exception {
        Map<String, byte[]> files = TestArtifacts.loraAdapter(Map.of(), "null");
        files.remove("adapter_config.json");
        upload(TestArtifacts.zip(files), LINEAGE).then().statusCode(400)
                .body("errors[0].field", equalTo("adapter_config.json"));

        Map<String, byte[]> noWeights = TestArtifacts.loraAdapter(Map.of(), "null");
        noWeights.remove("adapter_model.safetensors");
        upload(TestArtifacts.zip(noWeights), LINEAGE).then().statusCode(400)
                .body("errors[0].field", equalTo("adapter_model.safetensors"));
    }

    @Test
    void adapterHubLayoutIsAccepted() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("adapter_config.json", TestArtifacts.utf8("{\"architecture\":\"bottleneck\",\"reduction_factor\":16}"));
        files.put("adapter.safetensors", TestArtifacts.safetensors(Map.of(
                "bert.encoder.layer.0.output.adapters.a.adapter_down.0.weight", new long[]{24, 384})));
        upload(TestArtifacts.zip(files), LINEAGE.replace("\"lora\"", "\"adapter\"")).then().statusCode(201)
                .body("lineage.format", equalTo("adapterhub"));
    }

    @Test
    void lineageIsValidated() throws Exception {
        Path zip = TestArtifacts.zip(TestArtifacts.loraAdapter(Map.of(), "null"));
        upload(zip, "{\"job_id\":\"j\",\"method\":\"dora\",\"colour\":\"red\"}").then().statusCode(400)
                .body("errors.field", hasItem("lineage.colour"))
                .body("errors.field", hasItem("lineage.base_model"))
                .body("errors.field", hasItem("lineage.method"));
    }
}
