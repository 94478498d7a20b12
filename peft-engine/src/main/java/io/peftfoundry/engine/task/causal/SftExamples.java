package io.peftfoundry.engine.task.causal;

import io.peftfoundry.engine.task.causal.chat.ChatEncoder;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;

import java.util.ArrayList;
import java.util.List;

/**
 * sft records ({@link CausalData.SftExample}) as training sequences and exact-match cases, whatever their format:
 * prompt/completion pairs through {@link SftEncoder} (prompt + completion + EOS), chat conversations through the model's
 * template ({@link ChatEncoder}: loss on every assistant turn). Exact match compares the greedy generation after the
 * prompt (for a conversation: the messages before its last assistant message, rendered with the generation prompt)
 * with the reference (the completion, or that assistant message's content).
 */
public final class SftExamples {

    private SftExamples() {}

    public record PromptReference(String prompt, String reference) {}

    public static boolean hasChat(List<? extends CausalData.SftExample> examples) {
        return examples.stream().anyMatch(e -> e instanceof CausalData.ChatExample);
    }

    /**
     * The sequences of the examples that fit; {@code rejected[0]} counts those that leave nothing to learn within
     * {@code maxLength}. {@code template} may be null when no example is a conversation.
     *
     * @throws ChatTemplate.ChatTemplateException the template refused a conversation (message names its line)
     */
    public static List<TokenSequence> encode(List<? extends CausalData.SftExample> examples, CausalTokenizer tokenizer,
            ChatTemplate template, long eosId, int maxLength, int[] rejected) {
        List<TokenSequence> out = new ArrayList<>(examples.size());
        for (CausalData.SftExample e : examples) {
            TokenSequence s;
            if (e instanceof CausalData.SftPair p) {
                s = SftEncoder.encode(tokenizer.encode(p.prompt()), tokenizer.encode(p.completion()), eosId, maxLength);
            } else {
                CausalData.ChatExample c = (CausalData.ChatExample) e;
                try {
                    s = ChatEncoder.encode(tokenizer, requireTemplate(template), c.messages(), maxLength);
                } catch (ChatTemplate.ChatTemplateException x) {
                    throw new ChatTemplate.ChatTemplateException("line " + c.line() + ": " + x.getMessage());
                }
            }
            if (s == null) {
                rejected[0]++;
            } else {
                out.add(s);
            }
        }
        return out;
    }

    public static PromptReference exactMatchCase(CausalData.SftExample example, ChatTemplate template) {
        if (example instanceof CausalData.SftPair p) {
            return new PromptReference(p.prompt(), p.completion());
        }
        CausalData.ChatExample c = (CausalData.ChatExample) example;
        try {
            return new PromptReference(requireTemplate(template).render(c.promptMessages(), true), c.lastAssistantContent());
        } catch (ChatTemplate.ChatTemplateException x) {
            throw new ChatTemplate.ChatTemplateException("line " + c.line() + ": " + x.getMessage());
        }
    }

    public static List<PromptReference> exactMatchCases(List<? extends CausalData.SftExample> examples, ChatTemplate template) {
        return examples.stream().map(e -> exactMatchCase(e, template)).toList();
    }

    private static ChatTemplate requireTemplate(ChatTemplate t) {
        if (t == null) {
            throw new IllegalStateException("a chat example needs the model's chat template (load it before encoding)");
        }
        return t;
    }
}
