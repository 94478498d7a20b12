package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.model.HfModule;

import java.util.List;

/**
 * Causal-LM metrics over sequences: loss (mean next-token NLL over all target tokens of the data set, not
 * a mean of batch means), perplexity = exp(loss), token accuracy (argmax = target); and exact match of
 * greedy completions.
 */
public final class CausalEvaluator {

    public record Metrics(double loss, double perplexity, double tokenAccuracy, long targets) {
        /** {@code {"loss", "perplexity", "token_accuracy", "target_tokens"}} (NaN as null). */
        public com.fasterxml.jackson.databind.node.ObjectNode toJson() {
            var n = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            putFinite(n, "loss", loss);
            putFinite(n, "perplexity", perplexity);
            putFinite(n, "token_accuracy", tokenAccuracy);
            n.put("target_tokens", targets);
            return n;
        }
    }

    static void putFinite(com.fasterxml.jackson.databind.node.ObjectNode n, String field, double v) {
        if (Double.isFinite(v)) {
            n.put(field, v);
        } else {
            n.putNull(field);
        }
    }

    private CausalEvaluator() {}

    public static Metrics evaluate(HfModule model, List<TokenSequence> data, int batchSize, long padId, NDManager manager) {
        double nll = 0;
        long targets = 0;
        long correct = 0;
        for (int from = 0; from < data.size(); from += batchSize) {
            CausalBatch b = CausalBatch.of(data.subList(from, Math.min(data.size(), from + batchSize)), padId);
            try (NDManager sub = manager.newSubManager()) {
                NDList in = new NDList(CausalBatch.create(sub, b.ids()), CausalBatch.create(sub, b.mask()));
                NDArray logits = model.forward(new ParameterStore(sub, false), in, false).head();
                CausalLmLoss.Sums s = CausalLmLoss.compute(logits, b.ids(), b.targets());
                nll += s.nll().getFloat();
                targets += s.targets();
                correct += s.correct();
            }
        }
        double loss = targets == 0 ? Double.NaN : nll / targets;
        return new Metrics(loss, Math.exp(loss), targets == 0 ? Double.NaN : (double) correct / targets, targets);
    }

    /** Metrics plus the per-sequence sums they are made of (same order as the data). */
    public record Scored(Metrics metrics, double[] nll, long[] targets, long[] correct) {}

    /**
     * As {@link #evaluate}, keeping each sequence's summed NLL, target count and argmax hits: loss, perplexity and
     * token accuracy are then ratios of sums over sequences, which a paired bootstrap can resample.
     */
    public static Scored evaluatePerSequence(HfModule model, List<TokenSequence> data, int batchSize, long padId,
            NDManager manager) {
        double[] nll = new double[data.size()];
        long[] targets = new long[data.size()];
        long[] correct = new long[data.size()];
        for (int from = 0; from < data.size(); from += batchSize) {
            CausalBatch b = CausalBatch.of(data.subList(from, Math.min(data.size(), from + batchSize)), padId);
            try (NDManager sub = manager.newSubManager()) {
                NDList in = new NDList(CausalBatch.create(sub, b.ids()), CausalBatch.create(sub, b.mask()));
                NDArray logits = model.forward(new ParameterStore(sub, false), in, false).head();
                CausalLmLoss.Rows r = CausalLmLoss.perRow(logits, b.ids(), b.targets());
                System.arraycopy(r.nll(), 0, nll, from, r.nll().length);
                System.arraycopy(r.targets(), 0, targets, from, r.targets().length);
                System.arraycopy(r.correct(), 0, correct, from, r.correct().length);
            }
        }
        double sumNll = 0;
        long sumTargets = 0;
        long sumCorrect = 0;
        for (int i = 0; i < nll.length; i++) {
            sumNll += nll[i];
            sumTargets += targets[i];
            sumCorrect += correct[i];
        }
        double loss = sumTargets == 0 ? Double.NaN : sumNll / sumTargets;
        return new Scored(new Metrics(loss, Math.exp(loss), sumTargets == 0 ? Double.NaN : (double) sumCorrect / sumTargets,
                sumTargets), nll, targets, correct);
    }

    /** Rows decoded together by {@link #greedyEach}. */
    static final int MAX_ROWS = 16;
    /** Float32 logits (prompt tokens × vocabulary) one prefill of joining rows may produce: 64 M, 256 MB. */
    static final long PREFILL_LOGITS = 64L << 20;

    /**
     * How many rows {@link #greedyEach} decodes at once: {@link #MAX_ROWS}, fewer when the longest prompt's logits over
     * the vocabulary times the rows would pass {@link #PREFILL_LOGITS} (a 128 K vocabulary at 512 tokens: one row).
     */
    public static int rowsAtOnce(long[][] prompts, long vocab) {
        long longest = 1;
        for (long[] p : prompts) {
            longest = Math.max(longest, p.length);
        }
        return (int) Math.max(1, Math.min(MAX_ROWS, PREFILL_LOGITS / (longest * Math.max(1, vocab))));
    }

    /**
     * Greedy completions of every prompt, decoded together in waves of up to {@code rowsAtOnce} rows: the next wave
     * joins when the last row of this one ends (all rows share one token budget, so they end together unless at EOS;
     * one joining group costs one prefill and one cache merge, where rows joining one by one cost one each). The same
     * tokens as {@link Generator#generate} one prompt at a time (up to float summation order: see
     * {@link BatchDecoder}), in far fewer forward calls.
     */
    public static Generator.Generation[] greedyEach(BatchDecoder decoder, long[][] prompts, int maxNewTokens,
            int rowsAtOnce) {
        int n = prompts.length;
        BatchDecoder.Row[] rows = new BatchDecoder.Row[n];
        int[] finished = {0};
        BatchDecoder.Listener listener = new BatchDecoder.Listener() {
            @Override
            public void onToken(BatchDecoder.Row row, long token) {
            }

            @Override
            public void onFinish(BatchDecoder.Row row) {
                finished[0]++;
            }
        };
        int submitted = 0;
        while (finished[0] < n) {
            for (int wave = submitted == finished[0] ? rowsAtOnce : 0; wave > 0 && submitted < n; wave--, submitted++) {
                rows[submitted] = decoder.submit(prompts[submitted], GenerationConfig.greedy(maxNewTokens), "", listener);
            }
            decoder.step();
        }
        Generator.Generation[] out = new Generator.Generation[n];
        for (int i = 0; i < n; i++) {
            out[i] = rows[i].generation();
        }
        return out;
    }

    /**
     * Per prompt whether its greedy completion (stripped of surrounding whitespace) equals the reference, decoded in
     * batches ({@link #greedyEach}); the decoder needs a tokenizer (for the text).
     */
    public static boolean[] exactMatchEach(BatchDecoder decoder, long[][] prompts, List<String> references,
            int maxNewTokens, long vocab) {
        Generator.Generation[] outs = greedyEach(decoder, prompts, maxNewTokens, rowsAtOnce(prompts, vocab));
        boolean[] hits = new boolean[prompts.length];
        for (int i = 0; i < hits.length; i++) {
            hits[i] = outs[i].text().strip().equals(references.get(i).strip());
        }
        return hits;
    }
}
