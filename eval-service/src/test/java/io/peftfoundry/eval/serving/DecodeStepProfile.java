package io.peftfoundry.eval.serving;

import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.GenerationConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * bench/serving's step probe: milliseconds per batched decode step of a {@link ServedDecoder}'s main lane (the time
 * of a whole turn of the decoding loop, prompts excluded), for B rows all on one LoRA adapter or spread over the
 * adapters: median wall time and median CPU time of the decoding thread per step (with one intra-op thread PyTorch
 * runs every op on that thread, so the CPU time is what a step costs even when other processes share the cores).
 * Args: {@code BACKBONE_DIR MAX_TOKENS REPEATS ADAPTER_DIR…}.
 */
public final class DecodeStepProfile {

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int maxTokens = Integer.parseInt(args[1]);
        int repeats = Integer.parseInt(args[2]);
        List<String> adapterDirs = List.of(args).subList(3, args.length);
        try (ServedDecoder d = new ServedDecoder(dir)) {
            List<ServedDecoder.Adapter> adapters = new ArrayList<>();
            for (int i = 0; i < adapterDirs.size(); i++) {
                adapters.add(d.load("a" + i, Path.of(adapterDirs.get(i))));
            }
            long[] prompt = d.tokenizer().encode("The hacker");
            for (int rep = 0; rep < repeats; rep++) {
                for (int rows : Arrays.stream(System.getProperty("profile.rows", "1,16").split(",")).mapToInt(Integer::parseInt).toArray()) {
                    for (boolean mixed : new boolean[] {false, true}) {
                        if (rows == 1 && mixed) {
                            continue;
                        }
                        List<Long> stamps = java.util.Collections.synchronizedList(new ArrayList<>());
                        List<Long> cpu = java.util.Collections.synchronizedList(new ArrayList<>());
                        List<BatchDecoder.Row> submitted = new ArrayList<>();
                        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(rows);
                        long cpuBefore = ServingBench.decodingCpuNanos();
                        for (int b = 0; b < rows; b++) {
                            ServedDecoder.Adapter a = adapters.get(mixed ? b % adapters.size() : 0);
                            final int row = b;
                            submitted.add(d.submit(a, prompt, GenerationConfig.greedy(maxTokens), new BatchDecoder.Listener() {
                                @Override
                                public void onToken(BatchDecoder.Row r, long token) {
                                    if (row == 0) {
                                        stamps.add(System.nanoTime());
                                        cpu.add(THREADS.getCurrentThreadCpuTime());
                                    }
                                }

                                @Override
                                public void onFinish(BatchDecoder.Row r) {
                                    done.countDown();
                                }
                            }));
                        }
                        done.await();
                        Thread.sleep(20); // the loop has left the step that ended the rows
                        double requestCpuMs = (ServingBench.decodingCpuNanos() - cpuBefore) / 1e6;
                        double[] ms = new double[stamps.size() - 2];
                        double[] cpuMs = new double[stamps.size() - 2];
                        for (int i = 2; i < stamps.size(); i++) {
                            ms[i - 2] = (stamps.get(i) - stamps.get(i - 1)) / 1e6;
                            cpuMs[i - 2] = (cpu.get(i) - cpu.get(i - 1)) / 1e6;
                        }
                        Arrays.sort(ms);
                        Arrays.sort(cpuMs);
                        System.out.printf(Locale.ROOT, "rows %2d %-6s wall ms/step median %.3f p10 %.3f | cpu ms/step median %.3f p10 %.3f"
                                + " | decoding-thread cpu ms per token, whole requests %.3f%n",
                                rows, mixed ? "mixed" : "one", ms[ms.length / 2], ms[ms.length / 10], cpuMs[cpuMs.length / 2],
                                cpuMs[cpuMs.length / 10], requestCpuMs / (rows * maxTokens));
                    }
                }
            }
        }
    }
}
