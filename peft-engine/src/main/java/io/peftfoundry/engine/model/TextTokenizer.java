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
            return m.create(flat, new Shape(b, t)).duplicate(); // owned memory, see HfModule.assign
        }
    }

    /** One tokenized example before padding. */
    public record Encoded(long[] ids, long[] typeIds) {}

    public Encoded encodeOne(String text, String pair) {
        Encoding e = pair == null ? tokenizer.encode(text) : tokenizer.encode(text, pair);
        return new Encoded(e.getIds(), e.getTypeIds());
    }

    /** Pads encoded examples to the longest of them (pad id, type 0, mask 0). */
    public Batch pad(List<Encoded> items) {
        int n = items.size();
        int longest = 1;
        for (Encoded e : items) {
            longest = Math.max(longest, e.ids().length);
        }
        long[][] pIds = new long[n][longest];
        long[][] pTypes = new long[n][longest];
        long[][] mask = new long[n][longest];
        for (int i = 0; i < n; i++) {
            Encoded e = items.get(i);
            java.util.Arrays.fill(pIds[i], padId);
            System.arraycopy(e.ids(), 0, pIds[i], 0, e.ids().length);
            System.arraycopy(e.typeIds(), 0, pTypes[i], 0, e.typeIds().length);
            java.util.Arrays.fill(mask[i], 0, e.ids().length, 1L);
        }
        return new Batch(pIds, pTypes, mask);
    }

    /** Encodes texts with optional pairs ({@code pairs} may be null or hold nulls), padded to the longest. */
    public Batch encode(List<String> texts, List<String> pairs) {
        List<Encoded> items = new java.util.ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            items.add(encodeOne(texts.get(i), pairs == null ? null : pairs.get(i)));
        }
        return pad(items);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
