package io.peftfoundry.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;

import java.util.Random;

/** Tiny random encoders and inputs for fast tests. */
public final class TestModels {

    public static final BertConfig TINY = BertConfig.tiny(50, 16, 2, 2, 32);

    private TestModels() {}

    public static BertModel tiny(NDManager m, long seed) {
        return BertCheckpoint.random(TINY, m, seed, DataType.FLOAT32);
    }

    /** Random ids in [5, vocab), with the last {@code pad} positions of row 0 padded. */
    public static NDList inputs(NDManager m, int batch, int len, int pad, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[batch * len];
        long[] mask = new long[batch * len];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 5 + r.nextInt(TINY.vocabSize() - 5);
            mask[i] = 1;
        }
        for (int j = len - pad; j < len; j++) {
            ids[j] = 0;
            mask[j] = 0;
        }
        return new NDList(m.create(ids, new Shape(batch, len)), m.zeros(new Shape(batch, len), DataType.INT64),
                m.create(mask, new Shape(batch, len)));
    }

    /** Words of the toy vocabulary, ids 5.. (0-4 are [PAD] [UNK] [CLS] [SEP] [MASK]). */
    public static final java.util.List<String> WORDS = java.util.List.of(
            "good", "great", "fine", "bad", "awful", "poor",
            "the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park", "it", "was", "very", "day",
            "movie", "food", "service", "and", "but", "is", "this", "that", "today", "really");

    /** Writes a WordPiece tokenizer.json over {@link #WORDS} (whole words only) for the tiny encoder. */
    public static java.nio.file.Path writeTokenizer(java.nio.file.Path dir) throws java.io.IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        var added = root.putArray("added_tokens");
        String[] specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
        for (int i = 0; i < specials.length; i++) {
            var t = added.addObject();
            t.put("id", i).put("content", specials[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).put("lowercase", true).putNull("strip_accents");
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        var post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        var single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        single.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        var pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 1);
        var st = post.putObject("special_tokens");
        var cls = st.putObject("[CLS]");
        cls.put("id", "[CLS]");
        cls.putArray("ids").add(2);
        cls.putArray("tokens").add("[CLS]");
        var sep = st.putObject("[SEP]");
        sep.put("id", "[SEP]");
        sep.putArray("ids").add(3);
        sep.putArray("tokens").add("[SEP]");
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        var model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        var vocab = model.putObject("vocab");
        for (int i = 0; i < specials.length; i++) {
            vocab.put(specials[i], i);
        }
        for (int i = 0; i < WORDS.size(); i++) {
            vocab.put(WORDS.get(i), 5 + i);
        }
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Path f = dir.resolve("tokenizer.json");
        json.writeValue(f.toFile(), root);
        return f;
    }

    /**
     * A learnable toy task: label "pos" if the sentence holds one of good/great/fine, "neg" if one of
     * bad/awful/poor, surrounded by 3–7 random filler words.
     */
    public static java.util.List<io.peftfoundry.engine.task.classification.Example> toyTask(int n, long seed) {
        Random r = new Random(seed);
        var out = new java.util.ArrayList<io.peftfoundry.engine.task.classification.Example>();
        for (int i = 0; i < n; i++) {
            boolean pos = i % 2 == 0;
            String signal = WORDS.get((pos ? 0 : 3) + r.nextInt(3));
            var words = new java.util.ArrayList<String>();
            int len = 3 + r.nextInt(5);
            for (int j = 0; j < len; j++) {
                words.add(WORDS.get(6 + r.nextInt(WORDS.size() - 6)));
            }
            words.add(r.nextInt(words.size() + 1), signal);
            out.add(new io.peftfoundry.engine.task.classification.Example(String.join(" ", words), null, pos ? "pos" : "neg"));
        }
        return out;
    }

    public static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().toType(DataType.FLOAT64, false).getDouble();
    }
}
