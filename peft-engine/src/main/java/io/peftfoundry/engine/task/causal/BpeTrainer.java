package io.peftfoundry.engine.task.causal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE tokenizer and writes it as a GPT-2 style {@code tokenizer.json} that
 * {@link CausalTokenizer} (Hugging Face tokenizers) loads.
 *
 * <p>Algorithm (Sennrich et al.'s BPE on GPT-2's byte-level alphabet): the text is split into
 * pre-tokens with GPT-2's regex, each pre-token's UTF-8 bytes are mapped to GPT-2's 256 printable
 * characters, and identical pre-tokens are counted once with their frequency. Starting from the 256
 * byte symbols, the most frequent adjacent symbol pair (ties: smaller left id, then smaller right id)
 * is merged into a new symbol, until the vocabulary holds {@code vocabSize - 1} symbols or no pair
 * occurs twice. The last id is the end-of-text token {@value #END_OF_TEXT} (GPT-2's convention).
 * Pair counts are updated incrementally, touching only the pre-tokens that contain the merged pair.
 */
public final class BpeTrainer {

    public static final String END_OF_TEXT = "<|endoftext|>";

    /** GPT-2's pre-tokenizer regex (HF tokenizers' ByteLevel with use_regex). */
    static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = byteToChar();

    private final int vocabSize;
    private final Map<String, Long> wordCounts = new HashMap<>();

    public BpeTrainer(int vocabSize) {
        if (vocabSize < 257) {
            throw new IllegalArgumentException("vocab size must be at least 257 (256 bytes + end-of-text), got " + vocabSize);
        }
        this.vocabSize = vocabSize;
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
    private static char[] byteToChar() {
        char[] map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) next++;
        }
        return map;
    }

    /** The byte-level form of a string: its UTF-8 bytes as GPT-2's printable characters. */
    public static String byteLevel(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            sb.append(BYTE_TO_CHAR[b & 0xFF]);
        }
        return sb.toString();
    }

    /** Counts the pre-tokens of one document. */
    public void add(String text) {
        Matcher m = GPT2_SPLIT.matcher(text);
        while (m.find()) {
            wordCounts.merge(byteLevel(m.group()), 1L, Long::sum);
        }
    }

    /** The learned vocabulary (token string → id) and merges in rank order. */
    public record Result(Map<String, Integer> vocab, List<String[]> merges) {

        public int endOfTextId() {
            return vocab.get(END_OF_TEXT);
        }
    }

    public Result train() {
        List<String> symbols = new ArrayList<>();
        Map<String, Integer> idOf = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(BYTE_TO_CHAR[b]);
            idOf.put(s, symbols.size());
            symbols.add(s);
        }
        // Words in a fixed order (sorted) so ties and ids do not depend on hash order.
        List<String> keys = new ArrayList<>(wordCounts.keySet());
        keys.sort(null);
        int[][] words = new int[keys.size()][];
        long[] freq = new long[keys.size()];
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> where = new HashMap<>();
        for (int w = 0; w < words.length; w++) {
            String k = keys.get(w);
            int[] sym = new int[k.length()];
            for (int i = 0; i < sym.length; i++) {
                sym[i] = idOf.get(String.valueOf(k.charAt(i)));
            }
            words[w] = sym;
            freq[w] = wordCounts.get(k);
            countPairs(sym, freq[w], w, pairCount, where);
        }
        PriorityQueue<long[]> queue = new PriorityQueue<>(BpeTrainer::byCountThenPair);
        pairCount.forEach((p, c) -> queue.add(new long[] {c, p}));

        List<String[]> merges = new ArrayList<>();
        while (symbols.size() < vocabSize - 1 && !queue.isEmpty()) {
            long[] top = queue.poll();
            long pair = top[1];
            long current = pairCount.getOrDefault(pair, 0L);
            if (current != top[0]) {
                continue; // stale entry: the count changed after it was queued
            }
            if (current < 2) {
                break;
            }
            int a = (int) (pair >>> 32);
            int b = (int) pair;
            String merged = symbols.get(a) + symbols.get(b);
            Integer existing = idOf.get(merged);
            int c;
            if (existing != null) {
                c = existing; // the same string reached through another split
            } else {
                c = symbols.size();
                symbols.add(merged);
                idOf.put(merged, c);
            }
            merges.add(new String[] {symbols.get(a), symbols.get(b)});
            Set<Integer> affected = where.remove(pair);
            if (affected == null) {
                continue;
            }
            Map<Long, Long> changed = new HashMap<>();
            for (int w : affected) {
                int[] before = words[w];
                int[] after = mergePair(before, a, b, c);
                if (after == before) {
                    continue;
                }
                uncountPairs(before, freq[w], pairCount, changed);
                words[w] = after;
                countPairs(after, freq[w], w, pairCount, where);
                recordPairs(after, changed, pairCount);
            }
            pairCount.remove(pair);
            changed.remove(pair);
            changed.forEach((p, ignored) -> {
                long n = pairCount.getOrDefault(p, 0L);
                if (n > 0) {
                    queue.add(new long[] {n, p});
                }
            });
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < symbols.size(); i++) {
            vocab.put(symbols.get(i), i);
        }
        vocab.put(END_OF_TEXT, symbols.size());
        return new Result(vocab, merges);
    }

    private static int byCountThenPair(long[] x, long[] y) {
        int byCount = Long.compare(y[0], x[0]);
        return byCount != 0 ? byCount : Long.compare(x[1], y[1]);
    }

    private static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private static void countPairs(int[] sym, long f, int w, Map<Long, Long> pairCount, Map<Long, Set<Integer>> where) {
        for (int i = 0; i + 1 < sym.length; i++) {
            long p = pairKey(sym[i], sym[i + 1]);
            pairCount.merge(p, f, Long::sum);
            where.computeIfAbsent(p, k -> new HashSet<>()).add(w);
        }
    }

    private static void uncountPairs(int[] sym, long f, Map<Long, Long> pairCount, Map<Long, Long> changed) {
        for (int i = 0; i + 1 < sym.length; i++) {
            long p = pairKey(sym[i], sym[i + 1]);
            long n = pairCount.getOrDefault(p, 0L) - f;
            if (n <= 0) {
                pairCount.remove(p);
            } else {
                pairCount.put(p, n);
            }
            changed.put(p, 0L);
        }
    }

    private static void recordPairs(int[] sym, Map<Long, Long> changed, Map<Long, Long> pairCount) {
        for (int i = 0; i + 1 < sym.length; i++) {
            changed.put(pairKey(sym[i], sym[i + 1]), 0L);
        }
    }

    /** Left-to-right replacement of each (a, b) by c; the same array when the pair does not occur. */
    static int[] mergePair(int[] sym, int a, int b, int c) {
        int[] out = null;
        int n = 0;
        for (int i = 0; i < sym.length; i++) {
            if (i + 1 < sym.length && sym[i] == a && sym[i + 1] == b) {
                if (out == null) {
                    out = new int[sym.length - 1];
                    System.arraycopy(sym, 0, out, 0, i);
                    n = i;
                }
                out[n++] = c;
                i++;
            } else if (out != null) {
                out[n++] = sym[i];
            }
        }
        return out == null ? sym : java.util.Arrays.copyOf(out, n);
    }

    /** The {@code tokenizer.json} of a trained vocabulary, in the layout GPT-2's tokenizer uses. */
    public static ObjectNode toTokenizerJson(Result result) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ObjectNode eot = root.putArray("added_tokens").addObject();
        eot.put("id", result.endOfTextId());
        eot.put("content", END_OF_TEXT);
        eot.put("single_word", false);
        eot.put("lstrip", false);
        eot.put("rstrip", false);
        eot.put("normalized", true);
        eot.put("special", true);
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevelNode(json, false, true));
        root.set("post_processor", byteLevelNode(json, true, false));
        root.set("decoder", byteLevelNode(json, true, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        result.vocab().forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : result.merges()) {
            merges.add(m[0] + " " + m[1]);
        }
        return root;
    }

    private static ObjectNode byteLevelNode(ObjectMapper json, boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode n = json.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }

    public static void write(Result result, Path tokenizerJson) throws IOException {
        Path parent = tokenizerJson.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().writeValue(tokenizerJson.toFile(), toTokenizerJson(result));
    }

    /**
     * {@code BpeTrainer --vocab-size N --out tokenizer.json FILE...}: trains on the {@code "text"} fields
     * of JSONL files (or whole plain-text files) and writes the tokenizer.
     */
    public static void main(String[] args) throws IOException {
        int vocab = 4096;
        Path out = null;
        List<Path> inputs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--vocab-size" -> vocab = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> inputs.add(Path.of(args[i]));
            }
        }
        if (out == null || inputs.isEmpty()) {
            System.err.println("usage: BpeTrainer --vocab-size N --out tokenizer.json FILE.jsonl|FILE.txt ...");
            System.exit(2);
        }
        BpeTrainer trainer = new BpeTrainer(vocab);
        ObjectMapper json = new ObjectMapper();
        long docs = 0;
        for (Path in : inputs) {
            if (in.toString().endsWith(".jsonl")) {
                int line = 0;
                for (String l : Files.readAllLines(in, StandardCharsets.UTF_8)) {
                    line++;
                    if (l.isBlank()) {
                        continue;
                    }
                    var node = json.readTree(l).get("text");
                    if (node == null || !node.isTextual()) {
                        throw new IOException(in + ":" + line + ": no \"text\" field");
                    }
                    trainer.add(node.asText());
                    docs++;
                }
            } else {
                trainer.add(Files.readString(in, StandardCharsets.UTF_8));
                docs++;
            }
        }
        long t0 = System.nanoTime();
        Result r = trainer.train();
        write(r, out);
        System.out.printf("bpe: %d documents, %d distinct pre-tokens, %d merges, vocab %d (end-of-text id %d), %.1f s -> %s%n",
                docs, trainer.wordCounts.size(), r.merges().size(), r.vocab().size(), r.endOfTextId(),
                (System.nanoTime() - t0) / 1e9, out);
    }
}
