package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.KvCache;
import io.peftfoundry.engine.model.PositionIds;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Continuous batching over one decoder: sequences join and leave the running batch between steps, and all of them
 * advance by one token per forward call, sharing one key/value cache (B, heads, slots, d), preallocated with room for
 * more slots ({@link KvCache}): a step writes its new keys and values in place instead of copying the whole cache per
 * layer, and the buffers are reallocated only when they are full or the batch's rows change. A joining group is run
 * through its prompts in one call (right-padded), then its cache is appended to the running one; rows of different
 * lengths keep their own positions ({@link PositionIds}) and the slots one row does not use are masked, so each row
 * sees exactly what it would see alone. Decoding rules equal {@link Generator}'s (EOS, stop sequences, max tokens,
 * context length, temperature / top-p with the row's seed): greedy rows produce the same tokens as
 * {@link Generator#generate} alone (up to float summation order).
 *
 * <p>{@link #submit} may be called from any thread; {@link #step} from one loop thread only. {@code selector} is told
 * the tag of each row before every forward call, in batch order (per-row LoRA adapters: {@code MultiLora.select}).
 */
public final class BatchDecoder implements AutoCloseable {

    /** Told about a row's progress, on the loop thread. */
    public interface Listener {
        /** A token was appended to {@link Row#tokens()}. */
        void onToken(Row row, long token);

        /** The row ended ({@link Row#finishReason()} set). */
        void onFinish(Row row);
    }

    /** One sequence: its prompt, settings, tag (e.g. its adapter) and what it produced so far. */
    public static final class Row {
        private final long[] prompt;
        private final GenerationConfig config;
        private final String tag;
        private final Listener listener;
        private final Random rnd;
        private final List<Long> out = new ArrayList<>();
        private volatile String finishReason;
        private volatile boolean cancelled;
        private String text;
        private int length; // real tokens in the cache
        private long next;

        Row(long[] prompt, GenerationConfig config, String tag, Listener listener) {
            this.prompt = prompt;
            this.config = config;
            this.tag = tag;
            this.listener = listener;
            this.rnd = new Random(config.seed());
        }

        public String tag() {
            return tag;
        }

        public int promptTokens() {
            return prompt.length;
        }

        public synchronized long[] tokens() {
            return out.stream().mapToLong(Long::longValue).toArray();
        }

        /** {@code eos}, {@code stop}, {@code length}, {@code cancelled}, {@code error}, or null while running. */
        public String finishReason() {
            return finishReason;
        }

        /** The final text (cut before a stop sequence), once finished. */
        public synchronized String text() {
            return text;
        }

        /** Ends the row at the next step with finish reason {@code cancelled} (the client went away). */
        public void cancel() {
            cancelled = true;
        }

        public Generator.Generation generation() {
            return new Generator.Generation(tokens(), text(), finishReason);
        }
    }

    private final HfModule model;
    private final CausalTokenizer tokenizer;
    private final long[] eosIds;
    private final int maxPositions;
    private final int virtualTokens;
    private final Consumer<List<String>> selector;
    private final NDManager root;
    private final Queue<Row> pending = new ConcurrentLinkedQueue<>();
    private final List<Row> active = new ArrayList<>();
    /** (B, slots) 1 = a real key, 0 = padding; one entry per active row. */
    private final List<long[]> masks = new ArrayList<>();
    private NDManager cacheManager;
    /** Per layer key and value buffers (B, heads, capacity, d); the first {@link #slots} slots are in use. */
    private NDList cache;
    private int slots;
    private int capacity;
    /** Times the cache buffers were allocated (rows joined or left, or a full buffer grew). */
    private long cacheAllocations;
    private long forwardCalls;
    /** Managers holding a step's outputs until they are copied into the cache. */
    private final List<NDManager> pendingHolders = new ArrayList<>();

    /**
     * @param maxPositions positions for real tokens (the decoder's n_positions less its virtual tokens)
     * @param virtualTokens prompt/prefix tuning's virtual tokens in front of each row (positions start there)
     * @param tokenizer decodes tokens for stop sequences and the final text; null: no text, no stop sequences
     */
    public BatchDecoder(HfModule model, CausalTokenizer tokenizer, long eosId, int maxPositions, int virtualTokens,
            NDManager manager, Consumer<List<String>> selector) {
        this(model, tokenizer, new long[] {eosId}, maxPositions, virtualTokens, manager, selector);
    }

    /** Stops a row at any of {@code eosIds} (a chat model's end of turn and end of text, {@link SpecialTokens}). */
    public BatchDecoder(HfModule model, CausalTokenizer tokenizer, long[] eosIds, int maxPositions, int virtualTokens,
            NDManager manager, Consumer<List<String>> selector) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = eosIds.clone();
        this.maxPositions = maxPositions;
        this.virtualTokens = virtualTokens;
        this.selector = selector == null ? tags -> { } : selector;
        this.root = manager.newSubManager();
    }

    /** A model with its method installed. */
    public static BatchDecoder of(CausalModel model, CausalTokenizer tokenizer, long[] eosIds, NDManager manager,
            Consumer<List<String>> selector) {
        return new BatchDecoder(model.module(), tokenizer, eosIds, model.maxPositions(),
                model.decoder().virtualTokens(), manager, selector);
    }

    /** Queues a sequence; it joins the batch at the next {@link #step}. Thread-safe. */
    public Row submit(long[] prompt, GenerationConfig config, String tag, Listener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt is empty: generation needs at least one token");
        }
        Row row = new Row(prompt.clone(), config, tag, listener);
        pending.add(row);
        return row;
    }

    public boolean hasWork() {
        return !pending.isEmpty() || !active.isEmpty();
    }

    /** Rows decoding now. */
    public int activeRows() {
        return active.size();
    }

    /** Times the key/value buffers were (re)allocated: when rows join or leave, or full buffers grow. */
    public long cacheAllocations() {
        return cacheAllocations;
    }

    /** Forward calls made so far (a joining group's prompts count one, each batched step one). */
    public long forwardCalls() {
        return forwardCalls;
    }

    /**
     * Advances every active row by one token; then runs the prompts of the rows that arrived meanwhile. Runs with
     * PyTorch's autograd off on the calling thread (and restores the thread's mode): grad mode is per thread and on
     * by default in a thread PyTorch has not seen, so a serving thread recorded a graph for every op downstream of a
     * LoRA weight that requires grad — kept alive through the key/value cache across all of a row's steps and freed
     * only when the row left.
     */
    public void step() {
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            stepWithoutGrad();
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    private void stepWithoutGrad() {
        if (!active.isEmpty()) {
            decodeStep();
        }
        List<Row> joining = new ArrayList<>();
        for (Row r; (r = pending.poll()) != null; ) {
            if (r.config.maxNewTokens() == 0 || r.prompt.length > maxPositions) {
                finish(r, "length");
            } else {
                joining.add(r);
            }
        }
        if (!joining.isEmpty()) {
            prefill(joining);
        }
    }

    private void prefill(List<Row> rows) {
        int n = rows.size();
        int longest = rows.stream().mapToInt(r -> r.prompt.length).max().orElseThrow();
        long[] ids = new long[n * longest];
        long[] mask = new long[n * longest];
        long[] positions = new long[n * longest];
        List<String> tags = new ArrayList<>(n);
        for (int b = 0; b < n; b++) {
            Row r = rows.get(b);
            for (int i = 0; i < longest; i++) {
                boolean real = i < r.prompt.length;
                ids[b * longest + i] = real ? r.prompt[i] : 0; // padding: masked, any id
                mask[b * longest + i] = real ? 1 : 0;
                positions[b * longest + i] = virtualTokens + Math.min(i, r.prompt.length - 1);
            }
            tags.add(r.tag);
        }
        selector.accept(tags);
        NDList newCache;
        long[] picks;
        try (NDManager step = root.newSubManager()) {
            NDList in = new NDList(step.create(ids, new Shape(n, longest)).duplicate(),
                    step.create(mask, new Shape(n, longest)).duplicate());
            NDList r = model.forward(new ParameterStore(step, false), in, false, PositionIds.params(positions));
            forwardCalls++;
            // each row's last real position, gathered natively in one op: (n·longest, V)[b·longest + len_b − 1]
            long[] lastAt = new long[n];
            for (int b = 0; b < n; b++) {
                lastAt[b] = (long) b * longest + rows.get(b).prompt.length - 1;
            }
            NDArray logits = r.get(0);
            NDArray last = logits.reshape(n * (long) longest, logits.getShape().get(2)).get(step.create(lastAt));
            picks = pick(rows, last);
            newCache = keep(new NDList(r.subList(1, r.size())));
        }
        int newSlots = (int) newCache.get(0).getShape().get(2);
        int prefix = newSlots - longest; // prefix tuning's virtual keys, or prompt tuning's soft tokens
        List<long[]> newMasks = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            long[] m = new long[newSlots];
            for (int j = 0; j < newSlots; j++) {
                m[j] = j < prefix ? 1 : mask[b * longest + (j - prefix)];
            }
            newMasks.add(m);
        }
        merge(rows, newCache, newSlots, newMasks);
        for (int b = 0; b < n; b++) {
            rows.get(b).length = rows.get(b).prompt.length;
        }
        advance(rows, picks);
    }

    private void decodeStep() {
        int n = active.size();
        long[] ids = new long[n];
        long[] positions = new long[n];
        long[] mask = new long[n * (slots + 1)];
        List<String> tags = new ArrayList<>(n);
        for (int b = 0; b < n; b++) {
            Row r = active.get(b);
            ids[b] = r.next;
            positions[b] = virtualTokens + r.length;
            long[] m = masks.get(b);
            System.arraycopy(m, 0, mask, b * (slots + 1), slots);
            mask[b * (slots + 1) + slots] = 1;
            tags.add(r.tag);
        }
        selector.accept(tags);
        if (slots + 1 > capacity) {
            replaceCache(inUse());
        }
        long[] picks;
        try (NDManager step = root.newSubManager()) {
            NDList in = new NDList(step.create(ids, new Shape(n, 1)).duplicate(),
                    step.create(mask, new Shape(n, slots + 1)).duplicate());
            in.addAll(cache);
            // the new keys and values are written into the buffers at slot `slots`; the returned views are not kept
            NDList r = model.forward(new ParameterStore(step, false), in, false, PositionIds.params(positions));
            forwardCalls++;
            NDArray logits = r.get(0);
            picks = pick(active, logits.reshape(n, logits.getShape().get(2)));
        }
        slots++;
        for (int b = 0; b < n; b++) {
            long[] m = masks.get(b);
            long[] grown = java.util.Arrays.copyOf(m, slots);
            grown[slots - 1] = 1;
            masks.set(b, grown);
            active.get(b).length++;
        }
        advance(new ArrayList<>(active), picks);
    }

    /**
     * Each row's next token from its logits {@code (n, V)}, rows in batch order: one copy of the n · V floats to the
     * JVM, then the argmax (lowest id on ties, as {@link Generator#pick}) or the row's own sample. (PyTorch's argmax
     * over (16, 4096) on one thread took longer than copying the floats and scanning them here: 166 vs 75 µs + the
     * scan, measured with the demo decoder's vocabulary.)
     */
    private static long[] pick(List<Row> rows, NDArray logits) {
        int n = rows.size();
        float[] flat = logits.toType(DataType.FLOAT32, false).toFloatArray();
        int vocab = flat.length / n;
        long[] picks = new long[n];
        for (int b = 0; b < n; b++) {
            Row r = rows.get(b);
            if (r.config.temperature() == 0) {
                int best = b * vocab;
                for (int i = best + 1; i < (b + 1) * vocab; i++) {
                    if (flat[i] > flat[best]) {
                        best = i;
                    }
                }
                picks[b] = best - (long) b * vocab;
            } else {
                picks[b] = Generator.pick(java.util.Arrays.copyOfRange(flat, b * vocab, (b + 1) * vocab), r.config, r.rnd);
            }
        }
        return picks;
    }

    /** Appends each row's picked token; finished rows leave the batch. */
    private void advance(List<Row> rows, long[] picks) {
        List<Row> done = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (r.cancelled) {
                finish(r, "cancelled");
                done.add(r);
                continue;
            }
            long next = picks[i];
            if (isEos(next)) {
                finish(r, "eos");
                done.add(r);
                continue;
            }
            synchronized (r) {
                r.out.add(next);
            }
            r.next = next;
            if (r.listener != null) {
                r.listener.onToken(r, next);
            }
            if (!r.config.stop().isEmpty() && Generator.stopAt(decode(r), r.config.stop()) >= 0) {
                finish(r, "stop");
                done.add(r);
            } else if (r.out.size() >= r.config.maxNewTokens() || r.length + 1 > maxPositions) {
                finish(r, "length");
                done.add(r);
            }
        }
        if (!done.isEmpty()) {
            drop(done);
        }
    }

    private boolean isEos(long id) {
        for (long e : eosIds) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }

    private String decode(Row r) {
        return tokenizer == null ? "" : tokenizer.decode(r.tokens());
    }

    private void finish(Row r, String reason) {
        String text = decode(r);
        if (reason.equals("stop")) {
            text = text.substring(0, Generator.stopAt(text, r.config.stop()));
        }
        synchronized (r) {
            r.text = text;
        }
        r.finishReason = reason;
        if (r.listener != null) {
            r.listener.onFinish(r);
        }
    }

    /** Appends the joining rows (their cache padded or the running one padded to the wider of the two). */
    private void merge(List<Row> rows, NDList newCache, int newSlots, List<long[]> newMasks) {
        if (active.isEmpty()) {
            active.addAll(rows);
            masks.addAll(newMasks);
            slots = newSlots;
            replaceCache(newCache);
            return;
        }
        int width = Math.max(slots, newSlots);
        NDList merged = new NDList(cache.size());
        NDList running = inUse();
        for (int i = 0; i < cache.size(); i++) {
            merged.add(widen(running.get(i), width).concat(widen(newCache.get(i), width), 0));
        }
        for (int b = 0; b < masks.size(); b++) {
            masks.set(b, java.util.Arrays.copyOf(masks.get(b), width));
        }
        for (long[] m : newMasks) {
            masks.add(java.util.Arrays.copyOf(m, width));
        }
        active.addAll(rows);
        slots = width;
        replaceCache(merged);
    }

    /** (B, h, s, d) zero-padded on the right of the slot axis to {@code width}. */
    private static NDArray widen(NDArray a, int width) {
        Shape s = a.getShape();
        long have = s.get(2);
        if (have == width) {
            return a;
        }
        return a.concat(a.getManager().zeros(new Shape(s.get(0), s.get(1), width - have, s.get(3)), a.getDataType()), 2);
    }

    /** Removes finished rows from the batch and drops slots no remaining row uses. */
    private void drop(List<Row> done) {
        List<Integer> keepRows = new ArrayList<>();
        for (int b = 0; b < active.size(); b++) {
            if (!done.contains(active.get(b))) {
                keepRows.add(b);
            }
        }
        if (keepRows.isEmpty()) {
            active.clear();
            masks.clear();
            slots = 0;
            capacity = 0;
            cache = null;
            if (cacheManager != null) {
                cacheManager.close();
                cacheManager = null;
            }
            return;
        }
        // contiguous runs of kept rows and of used slots
        List<int[]> rowRuns = runs(keepRows);
        List<Integer> usedSlots = new ArrayList<>();
        for (int j = 0; j < slots; j++) {
            for (int b : keepRows) {
                if (masks.get(b)[j] != 0) {
                    usedSlots.add(j);
                    break;
                }
            }
        }
        List<int[]> slotRuns = runs(usedSlots);
        NDList next = new NDList(cache.size());
        for (NDArray a : cache) {
            NDList parts = new NDList();
            for (int[] rr : rowRuns) {
                for (int[] sr : slotRuns) {
                    parts.add(a.get(rr[0] + ":" + rr[1] + ", :, " + sr[0] + ":" + sr[1] + ", :"));
                }
            }
            next.add(concatBlocks(parts, rowRuns.size(), slotRuns.size()));
        }
        List<Row> rows = new ArrayList<>();
        List<long[]> ms = new ArrayList<>();
        for (int b : keepRows) {
            rows.add(active.get(b));
            long[] m = new long[usedSlots.size()];
            for (int j = 0; j < m.length; j++) {
                m[j] = masks.get(b)[usedSlots.get(j)];
            }
            ms.add(m);
        }
        active.clear();
        active.addAll(rows);
        masks.clear();
        masks.addAll(ms);
        slots = usedSlots.size();
        replaceCache(next);
    }

    /** Blocks laid out row-run major: concatenated along slots within a row run, then along rows. */
    private static NDArray concatBlocks(NDList parts, int rowRuns, int slotRuns) {
        NDList rows = new NDList(rowRuns);
        for (int i = 0; i < rowRuns; i++) {
            NDList inRun = new NDList(parts.subList(i * slotRuns, (i + 1) * slotRuns));
            rows.add(inRun.size() == 1 ? inRun.get(0) : NDArrays.concat(inRun, 2));
        }
        return rows.size() == 1 ? rows.get(0) : NDArrays.concat(rows, 0);
    }

    /** [start, end) runs of consecutive indices. */
    private static List<int[]> runs(List<Integer> sorted) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < sorted.size(); ) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            out.add(new int[] {sorted.get(i), sorted.get(j) + 1});
            i = j + 1;
        }
        return out;
    }

    /** Moves a step's outputs out of the step manager, before it closes. */
    private NDList keep(NDList arrays) {
        NDManager holder = root.newSubManager();
        arrays.forEach(a -> a.attach(holder));
        pendingHolders.add(holder);
        return arrays;
    }

    /** Views of the slots in use, (B, heads, slots, d) per entry. */
    private NDList inUse() {
        NDList out = new NDList(cache.size());
        for (NDArray a : cache) {
            out.add(a.get(new NDIndex(":, :, :{}, :", slots)));
        }
        return out;
    }

    /**
     * {@code next} (per entry (B, heads, s, d), all in use) becomes the cache: copied into fresh buffers with room for
     * more slots (half as many again, at least 16: a step then writes in place, and a batch that keeps decoding
     * reallocates O(log) times), and everything older is freed.
     */
    private void replaceCache(NDList next) {
        int used = (int) next.get(0).getShape().get(2);
        int room = used + Math.max(16, used / 2);
        NDManager fresh = root.newSubManager();
        NDList buffers = new NDList(next.size());
        for (NDArray a : next) {
            Shape s = a.getShape();
            NDArray buffer = fresh.zeros(new Shape(s.get(0), s.get(1), room, s.get(3)), a.getDataType());
            buffer.set(new NDIndex(":, :, :{}, :", used), a);
            buffers.add(buffer);
        }
        if (cacheManager != null) {
            cacheManager.close();
        }
        pendingHolders.forEach(NDManager::close);
        pendingHolders.clear();
        cacheManager = fresh;
        cache = buffers;
        capacity = room;
        cacheAllocations++;
    }

    /** Ends every queued and decoding row with {@code reason} (e.g. after a failed forward call) and empties the batch. */
    public void abandon(String reason) {
        for (Row r; (r = pending.poll()) != null; ) {
            finish(r, reason);
        }
        for (Row r : active) {
            finish(r, reason);
        }
        active.clear();
        masks.clear();
        slots = 0;
        capacity = 0;
        cache = null;
        if (cacheManager != null) {
            cacheManager.close();
            cacheManager = null;
        }
        pendingHolders.forEach(NDManager::close);
        pendingHolders.clear();
    }

    /** Rows still queued or decoding end with {@code length}; native memory is freed. */
    @Override
    public void close() {
        for (Row r; (r = pending.poll()) != null; ) {
            finish(r, "length");
        }
        for (Row r : active) {
            finish(r, "length");
        }
        active.clear();
        pendingHolders.forEach(NDManager::close);
        root.close();
    }
}
