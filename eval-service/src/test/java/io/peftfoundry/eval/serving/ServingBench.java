package io.peftfoundry.eval.serving;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.GenerationConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * bench/serving: generation throughput (completion tokens/s) and time to first token of eval-service's serving layer
 * (ServedDecoder: continuous batching, per-row LoRA) for 1, 4 and 16 concurrent clients, all on one LoRA adapter vs
 * each on its own (16 clients over 8 adapters), on the demo decoder and a LLaMA-shaped decoder. Each client sends
 * requests back to back (greedy, max_tokens fixed, its own prompt) for a fixed number of requests. Both variants of a
 * row run side by side in one process, so their ratio is what to read on a shared machine.
 *
 * <p>Args: {@code WORK_DIR MAX_TOKENS REQUESTS_PER_CLIENT [ROUNDS [CLIENTS [MODELS]]]}: the variants of a row run
 * interleaved ROUNDS times, each reporting its best round; CLIENTS is a comma-separated list (default {@code 1,4,16}),
 * MODELS {@code demo}, {@code llama} or both (default {@code demo,llama}) — reduced runs on a shared machine.
 * Prints one markdown table row per measurement.
 */
public final class ServingBench {

    static final String[] PROMPTS = {"The hacker", "A program is", "In the beginning the system", "Real programmers",
            "The kernel", "An editor", "The network", "A bug", "The compiler", "Unix", "The manual", "A wizard",
            "The terminal", "Memory is", "The user", "A hack"};

    /** {@code cpuSeconds}: CPU time of the backbone's decoding thread during the run (PyTorch runs every op there). */
    record Result(int clients, String variant, long tokens, double seconds, double ttftMeanMs, double ttftP50Ms,
            double cpuSeconds) {
        double tokensPerSecond() {
            return tokens / seconds;
        }

        double tokensPerCpuSecond() {
            return tokens / cpuSeconds;
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** CPU nanoseconds used so far by the decoding threads ({@link ServedDecoder}'s loop, "decode-…"). */
    static long decodingCpuNanos() {
        long sum = 0;
        for (java.lang.management.ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith("decode-")) {
                sum += Math.max(0, THREADS.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createDirectories(Path.of(args[0]));
        int maxTokens = Integer.parseInt(args[1]);
        int requests = Integer.parseInt(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        int[] clientCounts = Arrays.stream((args.length > 4 ? args[4] : "1,4,16").split(",")).mapToInt(Integer::parseInt).toArray();
        List<String> models = List.of((args.length > 5 ? args[5] : "demo,llama").split(","));
        Path demo = Path.of("demo", "decoder", "pretrained").toAbsolutePath();
        Path llama = Files.createDirectories(work.resolve("llama"));
        if (!Files.exists(llama.resolve("model.safetensors"))) {
            try (NDManager m = NDManager.newBaseManager()) {
                // LLaMA-shaped: RMSNorm, rotary, grouped-query attention (8 heads, 2 kv heads), SwiGLU; demo tokenizer
                LlamaConfig c = new LlamaConfig(4096, 256, 688, 4, 8, 2, 32, 512, 1e-6f, 10000.0, false, false, false, 4095, 4095);
                LlamaCheckpoint.save(LlamaCheckpoint.random(c, m, 1, DataType.FLOAT32), llama);
            }
            Files.copy(demo.resolve("tokenizer.json"), llama.resolve("tokenizer.json"));
        }
        for (Object[] model : new Object[][] {{"demo decoder (GPT-2, 4 x 128, 5.3 MB)", demo, List.of("c_attn")},
                {"LLaMA-shaped (4 x 256, GQA 8/2, SwiGLU, 16 MB)", llama, List.of("q_proj", "v_proj")}}) {
            Path dir = (Path) model[1];
            if (!models.contains(dir == demo ? "demo" : "llama")) {
                continue;
            }
            @SuppressWarnings("unchecked")
            List<String> targets = (List<String>) model[2];
            List<String> adapters = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Path out = work.resolve(dir.getFileName() + "-lora-" + i);
                if (!Files.exists(out.resolve("adapter_config.json"))) {
                    DecoderServingTest.adapter(dir, new LoraConfig(8, 16, 0, targets, false), 100 + i, out);
                }
                adapters.add(out.toString());
            }
            try (ResidentSet resident = new ResidentSet(Long.MAX_VALUE)) {
                DecoderServing serving = new DecoderServing(new ModelSource() {
                    @Override
                    public Path backbone(String m) {
                        return dir;
                    }

                    @Override
                    public Path adapter(String id) {
                        return Path.of(id);
                    }
                }, resident);
                // warm-up: load the backbone and all adapters, one request each
                for (String a : adapters) {
                    run(serving, 1, List.of(a), 4, 1);
                }
                System.out.println("| " + model[0] + " | | | | | | |");
                for (int clients : clientCounts) {
                    // the variants interleaved, `rounds` times; each keeps its best round (the least disturbed by
                    // the other processes of a shared machine)
                    Result one = null;
                    Result own = null;
                    Result turns = null;
                    for (int round = 0; round < rounds; round++) {
                        one = best(one, run(serving, clients, List.of(adapters.get(0)), maxTokens, requests));
                        own = best(own, run(serving, clients, adapters, maxTokens, requests));
                        if (clients > 1) {
                            turns = best(turns, oneAtATime(serving, clients, adapters, maxTokens, requests));
                        }
                    }
                    List<Result> rows = new ArrayList<>(List.of(one, own));
                    if (turns != null) {
                        rows.add(turns);
                    }
                    for (Result r : rows) {
                        System.out.printf(Locale.ROOT, "| | %d | %s | %.1f | %.0f / %.0f | %s | %.0f (%.2fx) |%n", r.clients(),
                                r.variant(), r.tokensPerSecond(), r.ttftP50Ms(), r.ttftMeanMs(),
                                r == one ? "1.00x" : String.format(Locale.ROOT, "%.2fx", r.tokensPerSecond() / one.tokensPerSecond()),
                                r.tokensPerCpuSecond(), r.tokensPerCpuSecond() / one.tokensPerCpuSecond());
                    }
                }
            }
        }
    }

    /** The better of two rounds by wall time, with the lower CPU time per token of the two (each the least disturbed). */
    static Result best(Result a, Result b) {
        if (a == null) {
            return b;
        }
        Result wall = b.tokensPerSecond() > a.tokensPerSecond() ? b : a;
        Result cpu = b.tokensPerCpuSecond() > a.tokensPerCpuSecond() ? b : a;
        return new Result(wall.clients(), wall.variant(), wall.tokens(), wall.seconds(), wall.ttftMeanMs(), wall.ttftP50Ms(),
                cpu.cpuSeconds() * wall.tokens() / cpu.tokens());
    }

    /**
     * The same clients and adapters as the mixed run, but served one adapter at a time (what a server without per-row
     * adapter selection does): adapter k's clients run as one batch, then adapter k+1's, each round of {@code requests}.
     */
    static Result oneAtATime(DecoderServing serving, int clients, List<String> adapters, int maxTokens, int requests)
            throws Exception {
        int groups = Math.min(clients, adapters.size());
        long tokens = 0;
        double seconds = 0;
        double cpu = 0;
        List<Double> ttft = new ArrayList<>();
        for (int k = 0; k < groups; k++) {
            int mine = 0;
            for (int c = 0; c < clients; c++) {
                mine += c % adapters.size() == k ? 1 : 0;
            }
            Result r = run(serving, mine, List.of(adapters.get(k)), maxTokens, requests);
            tokens += r.tokens();
            seconds += r.seconds();
            cpu += r.cpuSeconds();
            // a client of adapter k waits for the adapters before it: its first token comes after their whole time
            ttft.add((seconds - r.seconds()) * 1000 + r.ttftMeanMs());
        }
        double mean = ttft.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double p50 = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray()[ttft.size() / 2];
        return new Result(clients, "one adapter at a time (" + groups + " adapters in turn)", tokens, seconds, mean, p50, cpu);
    }

    /** {@code clients} threads, client c on adapter c mod |adapters|, each sending {@code requests} requests in turn. */
    static Result run(DecoderServing serving, int clients, List<String> adapters, int maxTokens, int requests)
            throws Exception {
        AtomicLong tokens = new AtomicLong();
        List<Double> ttft = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int c = 0; c < clients; c++) {
            String adapter = adapters.get(c % adapters.size());
            String prompt = PROMPTS[c % PROMPTS.length];
            Thread t = new Thread(() -> {
                try (DecoderServing.Session s = serving.open("bench", adapter)) {
                    long[] ids = s.encode(prompt);
                    start.await();
                    for (int i = 0; i < requests; i++) {
                        long t0 = System.nanoTime();
                        long[] first = {0};
                        CountDownLatch done = new CountDownLatch(1);
                        // no EOS: every request generates maxTokens, so both variants do the same work
                        BatchDecoder.Row row = s.submit(ids, GenerationConfig.greedy(maxTokens), new BatchDecoder.Listener() {
                            @Override
                            public void onToken(BatchDecoder.Row r, long token) {
                                if (first[0] == 0) {
                                    first[0] = System.nanoTime();
                                }
                            }

                            @Override
                            public void onFinish(BatchDecoder.Row r) {
                                done.countDown();
                            }
                        });
                        done.await();
                        tokens.addAndGet(row.tokens().length);
                        if (first[0] != 0) {
                            ttft.add((first[0] - t0) / 1e6);
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            t.start();
            threads.add(t);
        }
        Thread.sleep(200); // every client has its session open
        long t0 = System.nanoTime();
        long cpu0 = decodingCpuNanos();
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpuSeconds = (decodingCpuNanos() - cpu0) / 1e9;
        if (!errors.isEmpty()) {
            throw new RuntimeException(errors.get(0));
        }
        double[] v = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        String variant = adapters.size() == 1 ? "all on one adapter" : "each on its own (" + Math.min(clients, adapters.size()) + " adapters)";
        return new Result(clients, variant, tokens.get(), seconds, Arrays.stream(v).average().orElse(0), v.length == 0 ? 0 : v[v.length / 2],
                cpuSeconds);
    }
}
