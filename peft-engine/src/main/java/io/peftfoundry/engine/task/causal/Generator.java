package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.model.HfModule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Autoregressive decoding with a key/value cache: the prompt is run once, then each new token is fed
 * alone with the cache of everything before it. The model follows the decoder convention
 * {@code NDList(ids, mask, k0, v0, …) → NDList(logits, k0', v0', …)} ({@code Gpt2LmHeadModel}).
 * Stops at an EOS id (any of them), at a stop sequence, or after max_new_tokens.
 */
public final class Generator {

    /** Why generation ended: {@code eos}, {@code stop} (a stop sequence), {@code length} (max_new_tokens or context). */
    public record Generation(long[] tokens, String text, String finishReason) {}

    private final HfModule model;
    private final CausalTokenizer tokenizer;
    private final long[] eosIds;
    private final int maxPositions;

    public Generator(HfModule model, CausalTokenizer tokenizer, long eosId, int maxPositions) {
        this(model, tokenizer, new long[] {eosId}, maxPositions);
    }

    /** Stops at any of {@code eosIds} (a model may have several: Llama 3 Instruct's end of text, end of turn, ...). */
    public Generator(HfModule model, CausalTokenizer tokenizer, long[] eosIds, int maxPositions) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = eosIds.clone();
        this.maxPositions = maxPositions;
    }

    public Generation generate(NDManager manager, String prompt, GenerationConfig config) {
        return generate(manager, tokenizer.encode(prompt), config);
    }

    public Generation generate(NDManager manager, long[] prompt, GenerationConfig config) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt is empty: generation needs at least one token");
        }
        Random rnd = new Random(config.seed());
        List<Long> out = new ArrayList<>();
        String reason = "length";
        try (NDManager m = manager.newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            NDList cache = null;
            long[] feed = prompt;
            int length = 0;
            while (out.size() < config.maxNewTokens()) {
                if (length + feed.length > maxPositions) {
                    break;
                }
                NDList in = new NDList(m.create(feed, new Shape(1, feed.length)).duplicate(), null);
                if (cache != null) {
                    in.addAll(cache);
                }
                NDList r = model.forward(ps, in, false);
                length += feed.length;
                cache = new NDList(r.subList(1, r.size()));
                float[] last = r.get(0).get("0, -1, :").toType(DataType.FLOAT32, false).toFloatArray();
                long next = pick(last, config, rnd);
                if (isEos(next)) {
                    reason = "eos";
                    break;
                }
                out.add(next);
                if (!config.stop().isEmpty() && stopAt(decode(out), config.stop()) >= 0) {
                    reason = "stop";
                    break;
                }
                feed = new long[] {next};
            }
        }
        long[] tokens = out.stream().mapToLong(Long::longValue).toArray();
        String text = decode(out);
        if (reason.equals("stop")) {
            text = text.substring(0, stopAt(text, config.stop()));
        }
        return new Generation(tokens, text, reason);
    }

    private boolean isEos(long id) {
        for (long e : eosIds) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }

    private String decode(List<Long> ids) {
        return tokenizer == null ? "" : tokenizer.decode(ids.stream().mapToLong(Long::longValue).toArray());
    }

    /** Index of the earliest stop sequence in text, or −1. */
    static int stopAt(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /** Argmax (temperature 0, lowest id on ties) or a temperature/top-p sample. */
    static long pick(float[] logits, GenerationConfig config, Random rnd) {
        if (config.temperature() == 0) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / config.temperature());
            sum += p[i];
        }
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            order[i] = i;
            p[i] /= sum;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        // nucleus: the most probable tokens until their mass reaches top_p (at least one)
        double mass = 0;
        int keep = 0;
        while (keep < order.length && (keep == 0 || mass < config.topP())) {
            mass += p[order[keep++]];
        }
        double u = rnd.nextDouble() * mass;
        for (int i = 0; i < keep; i++) {
            u -= p[order[i]];
            if (u <= 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
