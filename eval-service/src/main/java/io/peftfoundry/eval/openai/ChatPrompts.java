package io.peftfoundry.eval.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;

import java.util.List;
import java.util.Map;

/**
 * Chat messages → the prompt text, rendered with the model's own chat template ({@code chat_template.jinja} or
 * {@code chat_template} in {@code tokenizer_config.json}, as transformers keeps it), by peft-engine's
 * {@link ChatTemplate} (Jinjava, as transformers' apply_chat_template renders it). A model without one gets a clear
 * 400: guessing a format would produce text the model was never trained on.
 */
final class ChatPrompts {

    private ChatPrompts() {}

    /** The prompt for {@code messages} with the assistant's turn opened (add_generation_prompt). */
    static String render(String model, ChatTemplate template, List<Map<String, Object>> messages) {
        if (template == null) {
            throw OpenAiException.invalid("messages", "model_without_chat_template", "model '" + model
                    + "' has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json): send"
                    + " its prompt as text to /v1/completions, or serve a model that has one");
        }
        try {
            return template.render(messages, true);
        } catch (ChatTemplate.ChatTemplateException e) {
            throw OpenAiException.invalid("messages", "chat_template_error", "model '" + model
                    + "''s chat template refused these messages: " + e.getMessage());
        }
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
