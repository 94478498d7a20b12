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

    /** Per prompt whether its greedy completion (stripped of surrounding whitespace) equals the reference. */
    public static boolean[] exactMatchEach(Generator generator, List<String> prompts, List<String> references,
            int maxNewTokens, NDManager manager) {
        boolean[] hits = new boolean[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            String out = generator.generate(manager, prompts.get(i), GenerationConfig.greedy(maxNewTokens)).text();
            hits[i] = out.strip().equals(references.get(i).strip());
        }
        return hits;
    }

    /** Fraction of prompts whose greedy completion (stripped of surrounding whitespace) equals the reference. */
    public static double exactMatch(Generator generator, List<String> prompts, List<String> references, int maxNewTokens,
            NDManager manager) {
        if (prompts.isEmpty()) {
            return Double.NaN;
        }
        int hits = 0;
        for (int i = 0; i < prompts.size(); i++) {
            String out = generator.generate(manager, prompts.get(i), GenerationConfig.greedy(maxNewTokens)).text();
            if (out.strip().equals(references.get(i).strip())) {
                hits++;
            }
        }
        return (double) hits / prompts.size();
    }
}
