package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.TestArtifacts;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AdapterInspectorTest {

    @Test
    void recognisesFullVocabularyMatricesButNotLoraFactors() {
        assertEquals("word_embeddings", AdapterInspector.fullVocabMatrixModule("base_model.model.embeddings.word_embeddings.weight"));
        assertEquals("lm_head", AdapterInspector.fullVocabMatrixModule("lm_head.weight"));
        assertEquals("lm_head", AdapterInspector.fullVocabMatrixModule("base_model.model.lm_head.base_layer.weight"));
        assertEquals("wte", AdapterInspector.fullVocabMatrixModule("transformer.wte.weight"));
        assertEquals("embed_tokens", AdapterInspector.fullVocabMatrixModule("model.embed_tokens.modules_to_save.default.weight"));
        assertNull(AdapterInspector.fullVocabMatrixModule("base_model.model.lm_head.lora_A.weight"));
        assertNull(AdapterInspector.fullVocabMatrixModule("base_model.model.model.embed_tokens.lora_embedding_A"));
        assertNull(AdapterInspector.fullVocabMatrixModule("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight"));
        assertNull(AdapterInspector.fullVocabMatrixModule("embeddings.position_embeddings.weight"));
    }

    @Test
    void safetensorsHeaderIsParsed() throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("a", new long[]{2, 3});
        shapes.put("b", new long[]{4});
        byte[] file = TestArtifacts.safetensors(shapes);
        SafetensorsHeader h = SafetensorsHeader.read(new ByteArrayInputStream(file), file.length, new ObjectMapper());
        assertEquals(List.of(2L, 3L), h.tensors().get("a").shape());
        // a: 6 floats = 24 bytes at [0, 24); b: 4 floats = 16 bytes at [24, 40)
        assertEquals(24, h.tensors().get("b").begin());
        assertEquals(40, h.tensors().get("b").end());
        assertEquals("pt", h.metadata().get("format"));
    }

    @Test
    void implausibleHeaderLengthIsRefused() {
        byte[] file = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, '{', '}'};
        assertThrows(IOException.class, () -> SafetensorsHeader.read(new ByteArrayInputStream(file), file.length, new ObjectMapper()));
    }

    @Test
    void offsetsBeyondTheFileAreRefused() {
        byte[] file = TestArtifacts.safetensors(Map.of("a", new long[]{4}));
        byte[] truncated = java.util.Arrays.copyOf(file, file.length - 4);
        assertThrows(IOException.class, () -> SafetensorsHeader.read(new ByteArrayInputStream(truncated), truncated.length, new ObjectMapper()));
    }
}
