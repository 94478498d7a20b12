package io.peftfoundry.eval.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Chat messages → the prompt text, rendered with the model's own chat template ({@code chat_template.jinja} or
 * {@code chat_template} in {@code tokenizer_config.json}, as transformers keeps it). A model without one gets a clear
 * 400: guessing a format would produce text the model was never trained on.
 */
final class ChatPrompts {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatPrompts() {}

    static boolean hasTemplate(Path modelDir) {
        if (Files.isRegularFile(modelDir.resolve("chat_template.jinja"))) {
            return true;
        }
        Path cfg = modelDir.resolve("tokenizer_config.json");
        try {
            return Files.isRegularFile(cfg) && JSON.readTree(cfg.toFile()).path("chat_template").isTextual();
        } catch (IOException e) {
            return false;
        }
    }

    /** The prompt for {@code messages} with the assistant's turn opened. */
    static String render(String model, Path modelDir, List<Map<String, Object>> messages) {
        if (!hasTemplate(modelDir)) {
            throw OpenAiException.invalid("messages", "model_without_chat_template", "model '" + model
                    + "' has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json): send"
                    + " its prompt as text to /v1/completions, or serve a model that has one");
        }
        throw OpenAiException.invalid("messages", "chat_template_unsupported", "model '" + model
                + "' has a chat template, but this eval-service cannot render chat templates yet: use /v1/completions");
    }

    static String content(JsonNode message, int index) {
        JsonNode c = message.get("content");
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw OpenAiException.invalid("messages[" + index + "].content",
                            "only text content parts ({\"type\": \"text\", \"text\": …}) are supported");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw OpenAiException.invalid("messages[" + index + "].content", "must be a string or an array of text parts");
    }
}
