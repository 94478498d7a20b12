package io.peftfoundry.engine.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * WordPiece tokenizer from a {@code tokenizer.json} (DJL's Hugging Face tokenizers): texts, or
 * text pairs, truncated to {@code maxLength} and padded to the longest sequence of each batch.
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final long padId;

    public TextTokenizer(Path tokenizerJson, int maxLength, long padId) throws IOException {
        this.tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optTruncation(true)
                .optPadding(false)
                .optMaxLength(maxLength)
                .build();
        this.maxLength = maxLength;
        this.padId = padId;
    }

    public int maxLength() {
        return maxLength;
    }

    /** One tokenized batch as plain arrays (B, T). */
    public record Batch(long[][] ids, long[][] typeIds, long[][] mask) {
        public int size() {
            return ids.length;
        }

        public int length() {
            return ids.length == 0 ? 0 : ids[0].length;
        }

        /** Number of real (non-padding) tokens. */
        public long tokens() {
            long n = 0;
            for (long[] row : mask) {
                for (long v : row) {
                    n += v;
                }
            }
            return n;
        }

        /** NDList(ids, typeIds, mask), each (B, T) int64. */
        public NDList toNDList(NDManager m) {
            return new NDList(create(m, ids), create(m, typeIds), create(m, mask));
        }

        private static ai.djl.ndarray.NDArray create(NDManager m, long[][] a) {
            int b = a.length;
            int t = a[0].length;
            long[] flat = new long[b * t];
            for (int i = 0; i < b; i++) {
                System.arraycopy(a[i], 0, flat, i * t, t);
            }
            return m.create(flat, new Shape(b, t));
        }
    }

    /** Encodes texts with optional pairs ({@code pairs} may be null or hold nulls). */
    public Batch encode(List<String> texts, List<String> pairs) {
        int n = texts.size();
        long[][] ids = new long[n][];
        long[][] types = new long[n][];
        int longest = 1;
        for (int i = 0; i < n; i++) {
            String pair = pairs == null ? null : pairs.get(i);
            Encoding e = pair == null ? tokenizer.encode(texts.get(i)) : tokenizer.encode(texts.get(i), pair);
            ids[i] = e.getIds();
            types[i] = e.getTypeIds();
            longest = Math.max(longest, ids[i].length);
        }
        long[][] pIds = new long[n][longest];
        long[][] pTypes = new long[n][longest];
        long[][] mask = new long[n][longest];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(pIds[i], padId);
            System.arraycopy(ids[i], 0, pIds[i], 0, ids[i].length);
            System.arraycopy(types[i], 0, pTypes[i], 0, types[i].length);
            java.util.Arrays.fill(mask[i], 0, ids[i].length, 1L);
        }
        return new Batch(pIds, pTypes, mask);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
