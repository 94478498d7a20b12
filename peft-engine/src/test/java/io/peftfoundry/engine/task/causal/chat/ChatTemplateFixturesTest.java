package io.peftfoundry.engine.task.causal.chat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.TokenSequence;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The token ids of ChatML (Qwen2 style, in chat_template.jinja, with tools through tojson), Llama 3 and Mistral [INST]
 * conversations equal what transformers' {@code tokenizer.apply_chat_template} produced for the same template, tokenizer
 * and messages (fixtures written by {@code interop/run fixtures}, see interop/chat_fixtures.py); the assistant loss mask
 * from prefix rendering equals transformers' {@code return_assistant_tokens_mask} from the ChatML template's
 * {@code {% generation %}} blocks; a raise_exception in the template surfaces with the template's message.
 */
class ChatTemplateFixturesTest {

    static final Path DIR = Path.of("src/test/resources/chat");
    static final ObjectMapper JSON = new ObjectMapper();

    static List<Map<String, Object>> messages(JsonNode n) {
        return JSON.convertValue(n, new TypeReference<>() {});
    }

    static long[] longs(JsonNode n) {
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asLong();
        }
        return out;
    }

    @Test
    void renderedTextAndTokenIdsEqualTransformersApplyChatTemplate() throws Exception {
        JsonNode cases = JSON.readTree(DIR.resolve("cases.json").toFile());
        int compared = 0;
        for (JsonNode c : cases) {
            if (c.has("error")) {
                continue;
            }
            Path model = DIR.resolve(c.get("template").asText());
            ChatTemplate template = ChatTemplate.load(model);
            List<Object> tools = c.get("tools").isNull() ? null : JSON.convertValue(c.get("tools"), new TypeReference<>() {});
            try (CausalTokenizer tok = new CausalTokenizer(model.resolve("tokenizer.json"))) {
                for (String key : new String[] {"plain", "generation_prompt"}) {
                    String label = c.get("template").asText() + " conversation " + c.get("conversation") + " " + key
                            + (tools != null ? " with tools" : "");
                    String text = template.render(messages(c.get("messages")), key.equals("generation_prompt"), tools);
                    assertEquals(c.get(key).get("text").asText(), text, label);
                    assertArrayEquals(longs(c.get(key).get("ids")), tok.encode(text), label);
                    compared++;
                }
            }
        }
        assertEquals(22, compared); // chatml 3 conversations x (no tools, tools) + llama3 3 + mistral 2 (no system), x 2
    }

    @Test
    void assistantMaskFromPrefixRenderingEqualsTransformersGenerationMask() throws Exception {
        JsonNode cases = JSON.readTree(DIR.resolve("cases.json").toFile());
        int compared = 0;
        for (JsonNode c : cases) {
            if (!c.path("plain").has("assistant_masks")) {
                continue;
            }
            Path model = DIR.resolve(c.get("template").asText());
            ChatTemplate template = ChatTemplate.load(model);
            try (CausalTokenizer tok = new CausalTokenizer(model.resolve("tokenizer.json"))) {
                List<Map<String, Object>> msgs = messages(c.get("messages"));
                List<Object> tools = c.get("tools").isNull() ? null : JSON.convertValue(c.get("tools"), new TypeReference<>() {});
                ChatTemplate.Rendering r = template.renderWithAssistantSpans(msgs, tools);
                long[] mask = ChatEncoder.assistantMask(tok.encodeWithOffsets(r.text()), r.assistantSpans());
                long[] expected = longs(c.get("plain").get("assistant_masks"));
                assertArrayEquals(expected, mask, "chatml conversation " + c.get("conversation") + " tools " + tools);
                compared++;
            }
        }
        assertEquals(6, compared); // 3 conversations, with and without tools
    }

    @Test
    void everyAssistantTurnIsATargetAndDecodesToItsAnswerAndEndToken() throws Exception {
        JsonNode cases = JSON.readTree(DIR.resolve("cases.json").toFile());
        // llama3, conversation 1: two assistant turns; Llama 3 trims content and ends the turn with <|eot_id|>
        JsonNode c = null;
        for (JsonNode x : cases) {
            if (x.path("template").asText().equals("llama3") && x.path("conversation").asInt() == 1) {
                c = x;
            }
        }
        Path model = DIR.resolve("llama3");
        try (CausalTokenizer tok = new CausalTokenizer(model.resolve("tokenizer.json"))) {
            TokenSequence s = ChatEncoder.encode(tok, ChatTemplate.load(model), messages(c.get("messages")), 10_000);
            assertArrayEquals(longs(c.get("plain").get("ids")), s.ids());
            long[] targets = java.util.stream.IntStream.range(0, s.length()).filter(i -> s.targets()[i] == 1)
                    .mapToLong(i -> s.ids()[i]).toArray();
            // the two answers (trimmed by the template), each with the turn's end token; headers and the user turns are context
            assertEquals("LoRA, rank 8.<|eot_id|>Sixteen: naïve café ✓<|eot_id|>", tok.decode(targets));
        }
    }

    @Test
    void raiseExceptionInTheTemplateReportsTheTemplatesMessage() throws Exception {
        JsonNode cases = JSON.readTree(DIR.resolve("cases.json").toFile());
        for (JsonNode c : cases) {
            if (c.has("error")) {
                ChatTemplate t = ChatTemplate.load(DIR.resolve(c.get("template").asText()));
                ChatTemplate.ChatTemplateException e = assertThrows(ChatTemplate.ChatTemplateException.class,
                        () -> t.render(messages(c.get("messages")), false));
                assertTrue(e.getMessage().contains(c.get("error").asText()), e.getMessage());
                assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
                return;
            }
        }
        throw new AssertionError("no error case in cases.json");
    }
}
