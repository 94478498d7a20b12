package io.peftfoundry.engine.job;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.task.causal.CausalData;
import io.peftfoundry.engine.task.causal.CausalEvaluator;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.task.causal.Packing;
import io.peftfoundry.engine.task.causal.SftEncoder;
import io.peftfoundry.engine.task.causal.TokenSequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores a decoder (a model directory, optionally with an adapter) on a file of a causal task — what {@code eval}
 * in the CLI and the eval service run: {@code loss}, {@code perplexity}, {@code token_accuracy}, {@code target_tokens},
 * and for {@code sft} {@code exact_match} of greedy completions over the first {@code exactMatchLimit} pairs.
 * The data is encoded as in training ({@link SftEncoder}, {@link Packing} with {@code maxSeqLength}).
 */
public final class CausalEvaluation {

    private CausalEvaluation() {}

    /**
     * @param adapterDir an adapter or a fine-tuned model directory, or null to score the model itself
     * @param task "sft" or "continued_pretraining"
     * @throws IOException the data file is malformed (message with file and line) or a model file cannot be read
     */
    public static ObjectNode run(Path modelDir, Path adapterDir, Path data, String task, int maxSeqLength, int exactMatchLimit)
            throws IOException {
        if (!task.equals("sft") && !task.equals("continued_pretraining")) {
            throw new IllegalArgumentException("task must be sft or continued_pretraining, got '" + task + "'");
        }
        Path tok = adapterDir != null && Files.isRegularFile(adapterDir.resolve("tokenizer.json"))
                ? adapterDir.resolve("tokenizer.json") : modelDir.resolve("tokenizer.json");
        try (NDManager manager = NDManager.newBaseManager(); CausalTokenizer tokenizer = new CausalTokenizer(tok)) {
            CausalModel model;
            if (adapterDir == null) {
                model = CausalAdapterFiles.load(modelDir, null, manager);
            } else if (CausalAdapterFiles.isFullModel(adapterDir)) {
                model = CausalAdapterFiles.load(adapterDir, null, manager);
            } else {
                model = CausalAdapterFiles.load(adapterDir, DecoderFiles.load(modelDir, manager), manager);
            }
            int maxLen = Math.min(maxSeqLength, model.maxPositions());
            List<TokenSequence> seqs = new ArrayList<>();
            List<CausalData.SftPair> pairs = null;
            if (task.equals("sft")) {
                pairs = CausalData.readSft(data);
                for (CausalData.SftPair p : pairs) {
                    TokenSequence s = SftEncoder.encode(tokenizer.encode(p.prompt()), tokenizer.encode(p.completion()),
                            model.eosId(), maxLen);
                    if (s != null) {
                        seqs.add(s);
                    }
                }
            } else {
                List<long[]> docs = new ArrayList<>();
                CausalData.readDocuments(data).forEach(d -> docs.add(tokenizer.encode(d)));
                seqs = Packing.pack(docs, model.eosId(), maxLen);
            }
            ObjectNode out = CausalEvaluator.evaluate(model.module(), seqs, 8, model.padId(), manager).toJson();
            out.put("task", task);
            out.put("examples", task.equals("sft") ? pairs.size() : seqs.size());
            if (pairs != null && exactMatchLimit > 0) {
                List<CausalData.SftPair> em = pairs.subList(0, Math.min(exactMatchLimit, pairs.size()));
                int longest = 1;
                for (CausalData.SftPair p : em) {
                    longest = Math.max(longest, tokenizer.encode(p.completion()).length + 1);
                }
                out.put("exact_match", CausalEvaluator.exactMatch(model.generator(tokenizer),
                        em.stream().map(CausalData.SftPair::prompt).toList(),
                        em.stream().map(CausalData.SftPair::completion).toList(), longest, manager));
                out.put("exact_match_examples", em.size());
            }
            return out;
        }
    }
}
