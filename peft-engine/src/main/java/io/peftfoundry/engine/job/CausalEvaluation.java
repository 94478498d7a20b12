package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.task.causal.CausalData;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.task.causal.Packing;
import io.peftfoundry.engine.task.causal.SftExamples;
import io.peftfoundry.engine.task.causal.SpecialTokens;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;
import io.peftfoundry.engine.task.causal.TokenSequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores a decoder (a model directory, optionally with an adapter) on a file of a causal task — what {@code eval}
 * in the CLI and the eval service run: {@code loss}, {@code perplexity}, {@code token_accuracy}, {@code target_tokens},
 * and for {@code sft} {@code exact_match} of greedy completions over the first {@code exactMatchLimit} examples
 * (prompt/completion pairs or chat conversations: the last assistant answer after the rendered generation prompt).
 * The data is encoded as in training ({@link SftExamples}, {@link Packing} with {@code maxSeqLength}). Everything runs on
 * the {@code device} given (the service's or the CLI's, {@link Devices}), as training does.
 */
public final class CausalEvaluation {

    private CausalEvaluation() {}

    /** Where the tokenizer, its special tokens and chat template are: a full fine-tune's directory carries its own copy. */
    public static Path tokenizerDir(Path modelDir, Path adapterDir) {
        return adapterDir != null && Files.isRegularFile(adapterDir.resolve("tokenizer.json")) ? adapterDir : modelDir;
    }

    /**
     * @param adapterDir an adapter or a fine-tuned model directory, or null to score the model itself
     * @param task "sft" or "continued_pretraining"
     * @param device where the model and every array live ({@link Devices#select})
     * @throws IOException the data file is malformed (message with file and line) or a model file cannot be read
     */
    public static ObjectNode run(Path modelDir, Path adapterDir, Path data, String task, int maxSeqLength, int exactMatchLimit,
            Device device) throws IOException {
        return score(modelDir, adapterDir, data, task, maxSeqLength, exactMatchLimit, device).metrics();
    }

    /**
     * The metrics of {@link #run} and the per-example outcomes they are made of, for paired comparisons of two models on
     * the same file: per encoded sequence (one per example for {@code sft}, packed chunks for continued pretraining) its
     * summed NLL, target tokens and argmax hits; per exact-match case (the first {@code exactMatchLimit} examples)
     * whether the greedy completion matched ({@code exactMatch} empty without exact match).
     */
    public record Scored(ObjectNode metrics, double[] nll, long[] targets, long[] tokenCorrect, boolean[] exactMatch) {}

    /** As {@link #run}, with the per-example outcomes. */
    public static Scored score(Path modelDir, Path adapterDir, Path data, String task, int maxSeqLength, int exactMatchLimit,
            Device device) throws IOException {
        if (!task.equals("sft") && !task.equals("continued_pretraining")) {
            throw new IllegalArgumentException("task must be sft or continued_pretraining, got '" + task + "'");
        }
        Path files = tokenizerDir(modelDir, adapterDir);
        try (NDManager manager = NDManager.newBaseManager(device);
                CausalTokenizer tokenizer = new CausalTokenizer(files.resolve("tokenizer.json"))) {
            CausalModel model;
            if (adapterDir == null) {
                model = CausalAdapterFiles.load(modelDir, null, manager);
            } else if (CausalAdapterFiles.isFullModel(adapterDir)) {
                model = CausalAdapterFiles.load(adapterDir, null, manager);
            } else {
                model = CausalAdapterFiles.load(adapterDir, DecoderFiles.load(modelDir, manager), manager);
            }
            int maxLen = Math.min(maxSeqLength, model.maxPositions());
            SpecialTokens special = SpecialTokens.read(files, tokenizer, model.eosId());
            List<TokenSequence> seqs;
            List<CausalData.SftExample> pairs = null;
            ChatTemplate template = null;
            if (task.equals("sft")) {
                pairs = CausalData.readSft(data);
                template = SftExamples.hasChat(pairs) ? ChatTemplate.load(files) : null;
                try {
                    seqs = SftExamples.encode(pairs, tokenizer, template, special.sequenceEosId(), maxLen, new int[1]);
                } catch (ChatTemplate.ChatTemplateException e) {
                    throw new IOException(data + " " + e.getMessage());
                }
            } else {
                List<long[]> docs = new ArrayList<>();
                CausalData.readDocuments(data).forEach(d -> docs.add(tokenizer.encode(d)));
                seqs = Packing.pack(docs, special.sequenceEosId(), maxLen);
            }
            CausalEvaluator.Scored scored = CausalEvaluator.evaluatePerSequence(model.module(), seqs, 8, model.padId(), manager);
            ObjectNode out = scored.metrics().toJson();
            boolean[] exact = new boolean[0];
            out.put("task", task);
            out.put("examples", task.equals("sft") ? pairs.size() : seqs.size());
            if (pairs != null && exactMatchLimit > 0) {
                List<CausalData.SftExample> em = pairs.subList(0, Math.min(exactMatchLimit, pairs.size()));
                exact = CausalTrainingJob.exactMatchEach(model, tokenizer, SftExamples.exactMatchCases(em, template), special,
                        manager);
                int hits = 0;
                for (boolean h : exact) {
                    hits += h ? 1 : 0;
                }
                out.put("exact_match", em.isEmpty() ? Double.NaN : (double) hits / em.size());
                out.put("exact_match_examples", em.size());
            }
            if (template != null) {
                out.put("chat_examples", pairs.stream().filter(p -> p instanceof CausalData.ChatExample).count());
            }
            return new Scored(out, scored.nll(), scored.targets(), scored.correct(), exact);
        }
    }
}
