package io.peftfoundry.engine.task.causal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BpeTrainerTest {

    /**
     * "ab ab ab abc" pre-tokenizes to "ab" ×1, " ab" ×2, " abc" ×1 (GPT-2's regex keeps the space
     * with the word). Pair counts: (a,b) 4, (Ġ,a) 3, (b,c) 1. So the first merge is "a b" → id 256,
     * the second "Ġ ab" → id 257, then no pair occurs twice and training stops.
     */
    @Test
    void mergesTheMostFrequentPairFirstAndStopsAtPairsSeenOnce() {
        BpeTrainer trainer = new BpeTrainer(1000);
        trainer.add("ab ab ab abc");
        BpeTrainer.Result r = trainer.train();
        assertEquals(2, r.merges().size());
        assertArrayEquals(new String[] {"a", "b"}, r.merges().get(0));
        assertArrayEquals(new String[] {"Ġ", "ab"}, r.merges().get(1));
        assertEquals(256, r.vocab().get("ab"));
        assertEquals(257, r.vocab().get("Ġab"));
        assertEquals(258, r.endOfTextId());
    }

    @Test
    void theVocabularyStopsAtTheRequestedSize() {
        BpeTrainer trainer = new BpeTrainer(256 + 1 + 1);
        trainer.add("ab ab ab abc");
        BpeTrainer.Result r = trainer.train();
        assertEquals(1, r.merges().size());
        assertEquals(258, r.vocab().size());
    }

    /** The written tokenizer.json loads in Hugging Face tokenizers and applies the learned merges. */
    @Test
    void huggingFaceTokenizersLoadsItAndRoundTripsAnyText(@TempDir Path dir) throws Exception {
        BpeTrainer trainer = new BpeTrainer(1000);
        trainer.add("ab ab ab abc");
        Path json = dir.resolve("tokenizer.json");
        BpeTrainer.write(trainer.train(), json);
        try (CausalTokenizer tok = new CausalTokenizer(json)) {
            // byte ids are the byte values; "ab" and " ab" are single merged tokens, " ba" stays 3 bytes
            assertArrayEquals(new long[] {256, 257, ' ', 'b', 'a'}, tok.encode("ab ab ba"));
            for (String text : List.of("naïve – ünïcode 你好\n\ttabs  and  spaces", "ab abc\n\n", " leading")) {
                assertEquals(text, tok.decode(tok.encode(text)));
            }
        }
    }

    @Test
    void byteLevelMapsSpaceAndNewlineLikeGpt2() {
        assertEquals("ĠĊ", BpeTrainer.byteLevel(" \n"));
        assertEquals("Ã©", BpeTrainer.byteLevel("é")); // UTF-8 C3 A9
    }
}
