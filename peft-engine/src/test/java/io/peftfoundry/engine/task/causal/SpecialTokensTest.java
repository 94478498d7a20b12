package io.peftfoundry.engine.task.causal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Special tokens resolved as transformers resolves them, on the Llama 3 fixture tokenizer (&lt;|begin_of_text|&gt;,
 * &lt;|end_of_text|&gt;, &lt;|eot_id|&gt; are single added tokens).
 */
class SpecialTokensTest {

    @TempDir
    Path dir;

    static Path llama3() throws Exception {
        return Path.of(SpecialTokensTest.class.getResource("/chat/llama3/tokenizer.json").toURI()).getParent();
    }

    @Test
    void generationConfigEosListWinsForGenerationTokenizerEosEndsSequences() throws Exception {
        Path src = llama3();
        Files.copy(src.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(src.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        try (CausalTokenizer tok = new CausalTokenizer(dir.resolve("tokenizer.json"))) {
            long bot = tok.tokenId("<|begin_of_text|>");
            long eot = tok.tokenId("<|eot_id|>");
            long end = tok.tokenId("<|end_of_text|>");
            // as Llama 3.x Instruct ships: config.json names end_of_text, generation_config.json the list of both
            Files.writeString(dir.resolve("config.json"), "{\"bos_token_id\": " + bot + ", \"eos_token_id\": " + end + "}");
            SpecialTokens configOnly = SpecialTokens.read(dir, tok, -1);
            assertArrayEquals(new long[] {end}, configOnly.generationEosIds());
            assertEquals(eot, configOnly.sequenceEosId()); // tokenizer_config.json eos_token <|eot_id|>
            assertEquals(bot, configOnly.bosId());
            assertEquals(eot, configOnly.padId()); // no pad anywhere: padding with the sequence eos
            Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [" + end + ", " + eot + "], \"pad_token_id\": 5}");
            SpecialTokens withGen = SpecialTokens.read(dir, tok, -1);
            assertArrayEquals(new long[] {end, eot}, withGen.generationEosIds());
            assertEquals(5, withGen.padId());
            // no eos in any file and no architecture default: refused naming the files
            Files.writeString(dir.resolve("config.json"), "{}");
            Files.delete(dir.resolve("generation_config.json"));
            Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": {\"content\": \"<|eot_id|>\"}}");
            assertEquals(eot, SpecialTokens.read(dir, tok, -1).sequenceEosId()); // AddedToken object form
            Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> SpecialTokens.read(dir, tok, -1));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("eos_token_id"), e.getMessage());
            assertEquals(2, SpecialTokens.read(dir, tok, 2).sequenceEosId());
        }
    }
}
