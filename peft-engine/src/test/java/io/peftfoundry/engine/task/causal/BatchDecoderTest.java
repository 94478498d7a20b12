package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.lora.MultiLora;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.method.prompt.PromptConfig;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching with per-row LoRA adapters: a batch mixing adapters (and rows without one), with prompts of
 * different lengths and rows joining while others decode, yields exactly the tokens each request gets alone from
 * {@link Generator} on its own adapter (greedy).
 */
class BatchDecoderTest {

    static final Gpt2Config GPT2 = Gpt2Config.tiny(48, 16, 2, 2, 64);
    static final LlamaConfig LLAMA = LlamaConfig.tiny(48, 16, 2, 4, 2, 64, false);

    record Request(long[] prompt, String adapter, int maxTokens) {}

    /** LoRA with random (non-zero) B, so each adapter changes the outputs. */
    static CausalModel lora(CausalDecoder shared, NDManager m, int r, List<String> targets, long seed) {
        CausalModel model = CausalModel.create(DecoderFiles.view(shared), new LoraConfig(r, 2 * r, 0, targets, false), m, seed);
        Random rnd = new Random(seed + 100);
        model.trainableParameters().forEach((k, p) -> {
            if (k.endsWith("lora_B.weight")) {
                NDArray b = p.getArray();
                float[] v = new float[(int) b.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextGaussian() * 0.3);
                }
                HfModule.assign(p, m.create(v, b.getShape()));
            }
        });
        return model;
    }

    static List<Request> requests(int vocab) {
        Random rnd = new Random(7);
        List<Request> out = new ArrayList<>();
        String[] adapters = {"a", null, "b", "c", "a", "b", null, "c"};
        for (int i = 0; i < adapters.length; i++) {
            long[] p = new long[2 + rnd.nextInt(9)];
            for (int j = 0; j < p.length; j++) {
                p[j] = rnd.nextInt(vocab - 1);
            }
            out.add(new Request(p, adapters[i], 4 + rnd.nextInt(10)));
        }
        return out;
    }

    static void mixedAdaptersBatchedEqualOneAtATime(CausalDecoder shared, List<String> targetsA, List<String> targetsB,
            List<String> targetsC, int vocab, NDManager m) {
        Map<String, CausalModel> adapters = new HashMap<>();
        adapters.put("a", lora(shared, m, 2, targetsA, 1));
        adapters.put("b", lora(shared, m, 4, targetsB, 2));
        adapters.put("c", lora(shared, m, 3, targetsC, 3));
        List<Request> reqs = requests(vocab);
        // alone: each request on its own model (the plain LoRA layers), no batching, eos outside the vocabulary
        List<long[]> alone = new ArrayList<>();
        for (Request r : reqs) {
            HfModule model = r.adapter() == null ? (HfModule) shared : adapters.get(r.adapter()).module();
            alone.add(new Generator(model, null, -1, shared.maxPositions()).generate(m, r.prompt(), GenerationConfig.greedy(r.maxTokens())).tokens());
        }
        // the test can fail: each adapter changes what the backbone generates for the same prompt
        for (String a : List.of("a", "b", "c")) {
            long[] p = reqs.get(0).prompt();
            long[] base = new Generator((HfModule) shared, null, -1, shared.maxPositions()).generate(m, p, GenerationConfig.greedy(12)).tokens();
            long[] with = new Generator(adapters.get(a).module(), null, -1, shared.maxPositions()).generate(m, p, GenerationConfig.greedy(12)).tokens();
            assertFalse(java.util.Arrays.equals(base, with), "adapter " + a + " changes nothing");
        }
        // batched: one view, all adapters, rows choose theirs; half the rows join after two steps
        CausalDecoder view = DecoderFiles.view(shared);
        try (MultiLora multi = new MultiLora(view, m)) {
            adapters.forEach((k, model) -> multi.add(k, model.method()));
            BatchDecoder decoder = new BatchDecoder((HfModule) view, null, -1, view.maxPositions(), 0, m, multi::select);
            List<BatchDecoder.Row> rows = new ArrayList<>();
            for (int i = 0; i < reqs.size(); i++) {
                Request r = reqs.get(i);
                rows.add(decoder.submit(r.prompt(), GenerationConfig.greedy(r.maxTokens()), r.adapter(), null));
                if (i == reqs.size() / 2) {
                    decoder.step();
                    decoder.step();
                    assertEquals(reqs.size() / 2 + 1, decoder.activeRows());
                }
            }
            while (decoder.hasWork()) {
                decoder.step();
            }
            for (int i = 0; i < reqs.size(); i++) {
                assertArrayEquals(alone.get(i), rows.get(i).tokens(), "request " + i + " (adapter " + reqs.get(i).adapter() + ")");
                assertEquals("length", rows.get(i).finishReason());
            }
            // fewer forward calls than the requests' tokens: they were decoded together
            int tokens = reqs.stream().mapToInt(Request::maxTokens).sum();
            assertTrue(decoder.forwardCalls() < tokens / 2, decoder.forwardCalls() + " forward calls for " + tokens + " tokens");
            decoder.close();
        }
    }

    @Test
    void gpt2MixedLoraAdaptersBatchedEqualEachAlone() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = Gpt2Checkpoint.random(GPT2, m, 11, DataType.FLOAT32);
            mixedAdaptersBatchedEqualOneAtATime(shared, List.of("c_attn"), List.of("c_attn", "c_proj"), List.of("c_fc"),
                    GPT2.vocabSize(), m);
        }
    }

    @Test
    void llamaMixedLoraAdaptersBatchedEqualEachAlone() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = LlamaCheckpoint.random(LLAMA, m, 12, DataType.FLOAT32);
            mixedAdaptersBatchedEqualOneAtATime(shared, List.of("q_proj", "v_proj"), List.of("k_proj", "o_proj"),
                    List.of("gate_proj", "down_proj"), LLAMA.vocabSize(), m);
        }
    }

    /**
     * Sampling rows (temperature, top-p, each with its seed) in a batch with greedy rows and other adapters draw the
     * same tokens as alone: each row's logits and random source stay its own.
     */
    @Test
    void sampledRowsInAMixedBatchDrawTheSameTokensAsAlone() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = Gpt2Checkpoint.random(GPT2, m, 11, DataType.FLOAT32);
            Map<String, CausalModel> adapters = new HashMap<>();
            adapters.put("a", lora(shared, m, 2, List.of("c_attn"), 1));
            adapters.put("b", lora(shared, m, 4, List.of("c_fc"), 2));
            List<Request> reqs = requests(GPT2.vocabSize());
            List<GenerationConfig> configs = new ArrayList<>();
            for (int i = 0; i < reqs.size(); i++) {
                configs.add(i % 2 == 0 ? new GenerationConfig(reqs.get(i).maxTokens(), 1.3, 0.95, List.of(), 40 + i)
                        : GenerationConfig.greedy(reqs.get(i).maxTokens()));
            }
            String[] rowAdapters = {"a", "b", null, "a", "b", null, "a", "b"};
            List<long[]> alone = new ArrayList<>();
            for (int i = 0; i < reqs.size(); i++) {
                HfModule model = rowAdapters[i] == null ? (HfModule) shared : adapters.get(rowAdapters[i]).module();
                alone.add(new Generator(model, null, -1, shared.maxPositions()).generate(m, reqs.get(i).prompt(), configs.get(i)).tokens());
            }
            // the test can fail: a sampled row's tokens depend on its seed (another seed draws others)
            GenerationConfig other = new GenerationConfig(configs.get(0).maxNewTokens(), 1.3, 0.95, List.of(), 999);
            assertFalse(java.util.Arrays.equals(alone.get(0), new Generator(adapters.get("a").module(), null, -1,
                    shared.maxPositions()).generate(m, reqs.get(0).prompt(), other).tokens()), "the seed changes nothing");
            CausalDecoder view = DecoderFiles.view(shared);
            try (MultiLora multi = new MultiLora(view, m)) {
                adapters.forEach((k, model) -> multi.add(k, model.method()));
                BatchDecoder decoder = new BatchDecoder((HfModule) view, null, -1, view.maxPositions(), 0, m, multi::select);
                List<BatchDecoder.Row> rows = new ArrayList<>();
                for (int i = 0; i < reqs.size(); i++) {
                    rows.add(decoder.submit(reqs.get(i).prompt(), configs.get(i), rowAdapters[i], null));
                    if (i == 3) {
                        decoder.step();
                    }
                }
                while (decoder.hasWork()) {
                    decoder.step();
                }
                for (int i = 0; i < reqs.size(); i++) {
                    assertArrayEquals(alone.get(i), rows.get(i).tokens(), "request " + i);
                }
                decoder.close();
            }
        }
    }

    /**
     * Adapters registered and removed between requests (the stacked A/B of every layer rebuilt, a larger rank padding
     * the others) leave each request's tokens equal to its adapter alone — before and after the change.
     */
    @Test
    void adaptersAddedAndRemovedBetweenBatchesStillEqualEachAlone() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = Gpt2Checkpoint.random(GPT2, m, 11, DataType.FLOAT32);
            Map<String, CausalModel> adapters = new HashMap<>();
            adapters.put("a", lora(shared, m, 2, List.of("c_attn"), 1));
            adapters.put("b", lora(shared, m, 4, List.of("c_attn", "c_proj"), 2));
            adapters.put("d", lora(shared, m, 6, List.of("c_attn", "c_fc"), 4));
            List<Request> reqs = requests(GPT2.vocabSize());
            CausalDecoder view = DecoderFiles.view(shared);
            try (MultiLora multi = new MultiLora(view, m)) {
                multi.add("a", adapters.get("a").method());
                multi.add("b", adapters.get("b").method());
                BatchDecoder decoder = new BatchDecoder((HfModule) view, null, -1, view.maxPositions(), 0, m, multi::select);
                for (String[] phase : new String[][] {{"a", "b", null, "b"}, {"a", "d", "d", null}}) {
                    if (phase[1].equals("d")) {
                        multi.remove("b");
                        multi.add("d", adapters.get("d").method());
                    }
                    List<BatchDecoder.Row> rows = new ArrayList<>();
                    for (int i = 0; i < phase.length; i++) {
                        rows.add(decoder.submit(reqs.get(i).prompt(), GenerationConfig.greedy(reqs.get(i).maxTokens()), phase[i], null));
                    }
                    while (decoder.hasWork()) {
                        decoder.step();
                    }
                    for (int i = 0; i < phase.length; i++) {
                        HfModule model = phase[i] == null ? (HfModule) shared : adapters.get(phase[i]).module();
                        long[] alone = new Generator(model, null, -1, shared.maxPositions())
                                .generate(m, reqs.get(i).prompt(), GenerationConfig.greedy(reqs.get(i).maxTokens())).tokens();
                        assertArrayEquals(alone, rows.get(i).tokens(), "adapter " + phase[i] + " request " + i);
                    }
                }
                // the test can fail: adapter d changes the backbone's tokens
                long[] p = reqs.get(1).prompt();
                assertFalse(java.util.Arrays.equals(
                        new Generator((HfModule) shared, null, -1, shared.maxPositions()).generate(m, p, GenerationConfig.greedy(12)).tokens(),
                        new Generator(adapters.get("d").module(), null, -1, shared.maxPositions()).generate(m, p, GenerationConfig.greedy(12)).tokens()));
                decoder.close();
            }
        }
    }

    /**
     * The key/value cache is preallocated and written in place: a row decoding 50 tokens (GPT-2 and LLaMA) gets
     * Generator's tokens, and the buffers are allocated a handful of times (when the row joins and when they are
     * full), not once per step.
     */
    @Test
    void aLongDecodeWritesTheCacheInPlaceAndReallocatesOnlyWhenFull() {
        for (boolean llama : new boolean[] {false, true}) {
            try (NDManager m = NDManager.newBaseManager()) {
                CausalDecoder shared = llama ? LlamaCheckpoint.random(LLAMA, m, 5, DataType.FLOAT32)
                        : Gpt2Checkpoint.random(GPT2, m, 5, DataType.FLOAT32);
                long[] prompt = {3, 17, 8};
                long[] alone = new Generator((HfModule) shared, null, -1, shared.maxPositions())
                        .generate(m, prompt, GenerationConfig.greedy(50)).tokens();
                BatchDecoder decoder = new BatchDecoder((HfModule) shared, null, -1, shared.maxPositions(), 0, m, null);
                BatchDecoder.Row row = decoder.submit(prompt, GenerationConfig.greedy(50), null, null);
                while (decoder.hasWork()) {
                    decoder.step();
                }
                assertArrayEquals(alone, row.tokens(), llama ? "llama" : "gpt2");
                assertEquals(50, alone.length);
                // 3 + 16 slots at the prompt, grown to 19 + 16 and 35 + 17 (49 decode steps write slots 3 … 51):
                // three allocations for 50 forward calls
                assertEquals(50, decoder.forwardCalls());
                assertEquals(3, decoder.cacheAllocations(), llama ? "llama" : "gpt2");
                decoder.close();
            }
        }
    }

    /**
     * A serving thread has PyTorch's grad mode on (per thread, on by default), and a loaded LoRA's weights require
     * grad: a step turns autograd off while it runs (no graph recorded, none kept alive through the cache) and gives
     * the thread its mode back.
     */
    @Test
    void stepsRunWithoutAutogradOnAThreadThatHasItOnAndRestoreIt() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = Gpt2Checkpoint.random(GPT2, m, 11, DataType.FLOAT32);
            CausalModel a = lora(shared, m, 2, List.of("c_attn"), 1);
            CausalDecoder view = DecoderFiles.view(shared);
            List<Boolean> duringSteps = java.util.Collections.synchronizedList(new ArrayList<>());
            boolean[] after = new boolean[1];
            Throwable[] failed = new Throwable[1];
            try (MultiLora multi = new MultiLora(view, m)) {
                multi.add("a", a.method());
                BatchDecoder decoder = new BatchDecoder((HfModule) view, null, -1, view.maxPositions(), 0, m, multi::select);
                decoder.submit(new long[] {3, 17, 8}, GenerationConfig.greedy(5), "a", new BatchDecoder.Listener() {
                    @Override
                    public void onToken(BatchDecoder.Row row, long token) {
                        duringSteps.add(ai.djl.pytorch.jni.JniUtils.isGradMode());
                    }

                    @Override
                    public void onFinish(BatchDecoder.Row row) {
                    }
                });
                Thread serving = new Thread(() -> {
                    try {
                        ai.djl.pytorch.jni.JniUtils.setGradMode(true);
                        while (decoder.hasWork()) {
                            decoder.step();
                        }
                        after[0] = ai.djl.pytorch.jni.JniUtils.isGradMode();
                    } catch (Throwable e) {
                        failed[0] = e;
                    }
                });
                serving.start();
                serving.join();
                decoder.close();
            }
            assertEquals(null, failed[0]);
            assertEquals(List.of(false, false, false, false, false), duringSteps);
            assertTrue(after[0], "the thread's grad mode was not restored");
        }
    }

    /** Prefix and prompt tuning are batched by adapter: one model, rows of different lengths, joined mid-flight. */
    @Test
    void virtualTokenMethodsBatchedEqualEachAlone() {
        for (MethodConfig method : List.<MethodConfig>of(new PrefixConfig(3, 8, true), new PromptConfig(4, PromptConfig.Init.RANDOM))) {
            for (boolean llama : new boolean[] {false, true}) {
                try (NDManager m = NDManager.newBaseManager()) {
                    CausalDecoder shared = llama ? LlamaCheckpoint.random(LLAMA, m, 5, DataType.FLOAT32)
                            : Gpt2Checkpoint.random(GPT2, m, 5, DataType.FLOAT32);
                    CausalModel model = CausalModel.create(DecoderFiles.view(shared), method, m, 9);
                    List<Request> reqs = requests(shared.vocabSize());
                    List<long[]> alone = new ArrayList<>();
                    for (Request r : reqs) {
                        alone.add(new Generator(model.module(), null, -1, model.maxPositions())
                                .generate(m, r.prompt(), GenerationConfig.greedy(r.maxTokens())).tokens());
                    }
                    BatchDecoder decoder = new BatchDecoder(model.module(), null, -1, model.maxPositions(),
                            model.decoder().virtualTokens(), m, null);
                    List<BatchDecoder.Row> rows = new ArrayList<>();
                    for (int i = 0; i < reqs.size(); i++) {
                        rows.add(decoder.submit(reqs.get(i).prompt(), GenerationConfig.greedy(reqs.get(i).maxTokens()), null, null));
                        if (i == 2) {
                            decoder.step();
                        }
                    }
                    while (decoder.hasWork()) {
                        decoder.step();
                    }
                    for (int i = 0; i < reqs.size(); i++) {
                        assertArrayEquals(alone.get(i), rows.get(i).tokens(), method.methodType() + (llama ? " llama" : " gpt2")
                                + " request " + i);
                    }
                    decoder.close();
                }
            }
        }
    }

    /** EOS and the context length end a row as they end Generator's loop. */
    @Test
    void eosAndContextLengthEndRowsLikeTheGenerator() {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalDecoder shared = Gpt2Checkpoint.random(Gpt2Config.tiny(48, 16, 2, 2, 16), m, 11, DataType.FLOAT32);
            long[] prompt = {3, 17, 8, 25};
            long[] free = new Generator((HfModule) shared, null, -1, 16).generate(m, prompt, GenerationConfig.greedy(8)).tokens();
            long eos = free[3];
            List<Generator.Generation> alone = new ArrayList<>();
            List<BatchDecoder.Row> rows = new ArrayList<>();
            BatchDecoder decoder = new BatchDecoder((HfModule) shared, null, eos, 16, 0, m, null);
            for (int max : new int[] {100, 2, 0}) {
                long[] p = max == 0 ? new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14} : prompt;
                alone.add(new Generator((HfModule) shared, null, eos, 16).generate(m, p, GenerationConfig.greedy(max == 0 ? 100 : max)));
                rows.add(decoder.submit(p, GenerationConfig.greedy(max == 0 ? 100 : max), null, null));
            }
            while (decoder.hasWork()) {
                decoder.step();
            }
            for (int i = 0; i < rows.size(); i++) {
                assertArrayEquals(alone.get(i).tokens(), rows.get(i).tokens(), "row " + i);
                assertEquals(alone.get(i).finishReason(), rows.get(i).finishReason(), "row " + i);
            }
            assertEquals("eos", rows.get(0).finishReason());
            assertEquals("length", rows.get(2).finishReason());
            decoder.close();
        }
    }
}
