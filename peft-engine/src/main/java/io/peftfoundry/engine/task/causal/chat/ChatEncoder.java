package io.peftfoundry.engine.task.causal.chat;

import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.TokenSequence;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A chat conversation as a training sequence: the model's template renders it
 * ({@link ChatTemplate#renderWithAssistantSpans}), the whole text is tokenized at once (as {@code apply_chat_template(…,
 * tokenize=True)} does, special tokens written by the template recognised, none added), and a token is a loss target when
 * its characters overlap an assistant span — every assistant turn, not only the last; system and user turns and the
 * template's headers are context.
 *
 * <p>Length rule (max_seq_length = L): the first L tokens are kept; a conversation with no target token left among them
 * is rejected ({@link #encode} returns null, the caller counts it).
 */
public final class ChatEncoder {

    private ChatEncoder() {}

    public static TokenSequence encode(CausalTokenizer tokenizer, ChatTemplate template, List<? extends Map<String, ?>> messages,
            int maxLength) {
        ChatTemplate.Rendering r = template.renderWithAssistantSpans(messages);
        CausalTokenizer.Encoded enc = tokenizer.encodeWithOffsets(r.text());
        long[] targets = assistantMask(enc, r.assistantSpans());
        int len = Math.min(enc.ids().length, maxLength);
        long[] ids = Arrays.copyOf(enc.ids(), len);
        long[] t = Arrays.copyOf(targets, len);
        if (len > 0) {
            t[0] = 0; // position 0 has no predecessor
        }
        TokenSequence s = new TokenSequence(ids, t);
        return s.targetCount() == 0 ? null : s;
    }

    /** 1 for each token whose [start, end) overlaps one of the spans. */
    public static long[] assistantMask(CausalTokenizer.Encoded enc, List<int[]> spans) {
        long[] mask = new long[enc.ids().length];
        for (int i = 0; i < mask.length; i++) {
            for (int[] s : spans) {
                if (enc.starts()[i] < s[1] && enc.ends()[i] > s[0]) {
                    mask[i] = 1;
                    break;
                }
            }
        }
        return mask;
    }
}
