package io.peftfoundry.eval.serving;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.engine.training.TrainingListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A tiny random BERT with a whole-word WordPiece tokenizer, and small adapters trained on a toy sentiment task. */
public final class TinyModels {

    public static final List<String> SPECIALS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    public static final List<String> POSITIVE = List.of("good", "great", "fine");
    public static final List<String> NEGATIVE = List.of("bad", "awful", "poor");
    public static final List<String> FILLER = List.of("the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park",
            "it", "was", "very", "day", "movie", "food");
    public static final int MAX_SEQ = 32;

    private TinyModels() {}

    /** Writes config.json, model.safetensors (random, seeded) and tokenizer.json into {@code dir}. */
    public static Path backbone(Path dir, long seed) throws IOException {
        int vocab = SPECIALS.size() + POSITIVE.size() + NEGATIVE.size() + FILLER.size();
        BertConfig config = BertConfig.tiny(vocab, 16, 2, 2, 32);
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = BertCheckpoint.random(config, m, seed, DataType.FLOAT32);
            BertCheckpoint.save(model, dir);
        }
        writeTokenizer(dir.resolve("tokenizer.json"));
        return dir;
    }

    /** Trains one classification adapter with {@code method} for a few steps and saves it in PEFT layout. */
    public static Path trainAdapter(Path backboneDir, MethodConfig method, long seed, Path out) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             TextTokenizer tok = new TextTokenizer(backboneDir.resolve("tokenizer.json"), MAX_SEQ, 0)) {
            BertModel backbone = BertCheckpoint.load(backboneDir, m);
            ClassificationModel model = ClassificationModel.create(backbone, method, new LabelMap(List.of("neg", "pos")),
                    Pooling.parse("mean"), m, seed);
            TrainingConfig cfg = new TrainingConfig(2, 8, 5e-3, MAX_SEQ, 0.0, 0.0, 1, null, 0, 0, false, 1.0, null, seed);
            new ClassificationTrainer(model, tok, cfg, m).train(toyTask(48, seed), toyTask(8, seed + 1),
                    out.resolve("checkpoints"), null, TrainingListener.NONE);
            Path dir = out.resolve("adapter");
            AdapterFiles.save(model, dir, "tiny-bert");
            return dir;
        }
    }

    /** "pos" when the sentence holds good/great/fine, "neg" for bad/awful/poor, among 3–6 filler words. */
    public static List<Example> toyTask(int n, long seed) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean pos = i % 2 == 0;
            List<String> words = new ArrayList<>();
            int len = 3 + r.nextInt(4);
            for (int j = 0; j < len; j++) {
                words.add(FILLER.get(r.nextInt(FILLER.size())));
            }
            List<String> signal = pos ? POSITIVE : NEGATIVE;
            words.add(r.nextInt(words.size() + 1), signal.get(r.nextInt(signal.size())));
            out.add(new Example(String.join(" ", words), null, pos ? "pos" : "neg"));
        }
        return out;
    }

    private static void writeTokenizer(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.size(); i++) {
            added.addObject().put("id", i).put("content", SPECIALS.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).put("lowercase", true).putNull("strip_accents");
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        single.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 1);
        ObjectNode special = post.putObject("special_tokens");
        for (String[] t : new String[][] {{"[CLS]", "2"}, {"[SEP]", "3"}}) {
            ObjectNode s = special.putObject(t[0]);
            s.put("id", t[0]);
            s.putArray("ids").add(Integer.parseInt(t[1]));
            s.putArray("tokens").add(t[0]);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        ObjectNode vocab = model.putObject("vocab");
        int id = 0;
        for (List<String> group : List.of(SPECIALS, POSITIVE, NEGATIVE, FILLER)) {
            for (String w : group) {
                vocab.put(w, id++);
            }
        }
        Files.createDirectories(file.getParent());
        json.writeValue(file.toFile(), root);
    }
}
