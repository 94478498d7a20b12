package io.peftfoundry.engine.model;

import io.peftfoundry.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TextTokenizerTest {

    @TempDir
    Path dir;

    @Test
    void pairsGetSegmentIdsAndBatchesPadToTheLongestWithAMask() throws Exception {
        try (TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 8, 0)) {
            // ids: [CLS]=2 [SEP]=3, words from 5 in TestModels.WORDS order: good=5 … cat=13 dog=14 sat=15
            var batch = tok.encode(List.of("cat sat", "good dog"), Arrays.asList(null, "cat"));
            assertArrayEquals(new long[] {2, 13, 15, 3, 0, 0}, batch.ids()[0]);
            assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0}, batch.mask()[0]);
            assertArrayEquals(new long[] {2, 5, 14, 3, 13, 3}, batch.ids()[1]);
            assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1}, batch.typeIds()[1]);
            assertEquals(10, batch.tokens());
        }
    }

    @Test
    void longInputsAreTruncatedToMaxLength() throws Exception {
        try (TextTokenizer tok = new TextTokenizer(TestModels.writeTokenizer(dir), 5, 0)) {
            var batch = tok.encode(List.of("the cat sat on the mat today"), null);
            assertArrayEquals(new long[] {2, 11, 13, 15, 3}, batch.ids()[0]); // [CLS] the cat sat [SEP]
        }
    }
}
