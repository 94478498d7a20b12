package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetValidatorTest {

    private final DatasetValidator validator = new DatasetValidator(new ObjectMapper(), 3);

    private DatasetReport validate(String content, DatasetTask task) throws IOException {
        return validator.validate(new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), task);
    }

    @Test
    void infersTheTaskFromTheFirstValidLine() throws IOException {
        assertEquals(DatasetTask.CLASSIFICATION, validate("{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"y\"}", null).task());
        assertEquals(DatasetTask.SFT, validate("{\"prompt\":\"a\",\"completion\":\"x\"}", null).task());
        assertEquals(DatasetTask.CONTINUED_PRETRAINING, validate("{\"text\":\"a\"}", null).task());
        DatasetReport plain = validate("just prose\nmore prose", null);
        assertEquals(DatasetTask.CONTINUED_PRETRAINING, plain.task());
        assertTrue(plain.plainText());
        assertEquals(2, plain.lineCount());
    }

    @Test
    void integerLabelsCountAsLabels() throws IOException {
        DatasetReport r = validate("{\"text\":\"a\",\"label\":0}\n{\"text\":\"b\",\"label\":1}\n", DatasetTask.CLASSIFICATION);
        assertTrue(r.valid());
        assertEquals(List.of("0", "1"), r.labels());
    }

    @Test
    void reportsOnlyTheFirstNFaultsButCountsAll() throws IOException {
        String content = "{\"text\":\"\",\"label\":\"a\"}\n".repeat(5);
        DatasetReport r = validate(content, DatasetTask.CLASSIFICATION);
        assertFalse(r.valid());
        assertEquals(5, r.totalErrors());
        assertEquals(3, r.errors().size());
        assertEquals(List.of(1L, 2L, 3L), r.errors().stream().map(e -> e.line()).toList());
    }

    @Test
    void oldMacLineEndsAndBomAreTolerated() throws IOException {
        DatasetReport r = validate("\uFEFF{\"text\":\"a\",\"label\":\"x\"}\r{\"text\":\"b\",\"label\":\"y\"}\r", null);
        assertTrue(r.valid(), () -> r.errors().toString());
        assertEquals(2, r.lineCount());
    }

    @Test
    void invalidUtf8IsAFault() throws IOException {
        byte[] bytes = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, '"', '}'};
        DatasetReport r = validator.validate(new ByteArrayInputStream(bytes), DatasetTask.CONTINUED_PRETRAINING);
        assertFalse(r.valid());
        assertTrue(r.errors().get(0).message().contains("UTF-8"));
    }

    static final String CHAT = "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"hi\"},"
            + "{\"role\":\"assistant\",\"content\":\"hello\"}]}";

    @Test
    void chatConversationsAreSftDataAndCounted() throws IOException {
        DatasetReport r = validate(CHAT + "\n{\"prompt\":\"a\",\"completion\":\"b\"}\n" + CHAT + "\n", null);
        assertTrue(r.valid(), () -> r.errors().toString());
        assertEquals(DatasetTask.SFT, r.task());
        assertEquals(3, r.lineCount());
        assertEquals(2, r.chatExamples());
    }

    @Test
    void badChatLinesAreFaultsWithTheirLineNumbers() throws IOException {
        String content = CHAT + "\n"
                + "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\" \"}]}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}]}\n"
                + "{\"messages\":\"hi\"}\n";
        DatasetReport r = new DatasetValidator(new ObjectMapper(), 10).validate(
                new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), DatasetTask.SFT);
        assertEquals(List.of(2L, 3L, 4L, 5L), r.errors().stream().map(e -> e.line()).toList());
        assertTrue(r.errors().get(0).message().contains("messages[0].role"), r.errors().toString());
        assertTrue(r.errors().get(1).message().contains("no assistant message with content"), r.errors().toString());
        assertTrue(r.errors().get(2).message().contains("content-part arrays"), r.errors().toString());
        assertEquals("messages", r.errors().get(3).field());
        DatasetReport wrongTask = validate(CHAT, DatasetTask.CONTINUED_PRETRAINING);
        assertTrue(wrongTask.errors().get(0).message().contains("chat conversation is sft data"), wrongTask.errors().toString());
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        DatasetReport r = validate("\n\n  \n", null);
        assertFalse(r.valid());
        assertTrue(r.errors().get(0).message().contains("no examples"));
    }

    /** Issue 14 finding 5: a label is a class name, not a payload — one longer than the cap is a fault naming the line. */
    @Test
    void aHugeLabelIsAFaultOnItsLine() throws IOException {
        String huge = "x".repeat(DatasetValidator.MAX_LABEL_CHARS + 1);
        DatasetReport r = validate("{\"text\":\"a\",\"label\":\"ok\"}\n{\"text\":\"b\",\"label\":\"" + huge + "\"}\n",
                DatasetTask.CLASSIFICATION);
        assertTrue(!r.valid());
        assertEquals(2L, r.errors().get(0).line());
        assertEquals("label", r.errors().get(0).field());
        assertTrue(r.errors().get(0).message().contains(String.valueOf(DatasetValidator.MAX_LABEL_CHARS)),
                r.errors().get(0).message());
    }
}
