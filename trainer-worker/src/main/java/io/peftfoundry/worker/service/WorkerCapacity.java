package io.peftfoundry.worker.service;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.engine.job.Devices;
import io.peftfoundry.worker.config.WorkerConfig;
import io.peftfoundry.worker.queue.JobQueue;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What this worker can hold: its device, the memory it offers to one job ({@code foundry.worker.memory}) and the model
 * families it loads ({@code foundry.worker.families}). Advertised on {@code foundry.workers}; the claim skips jobs
 * beyond it ({@link JobQueue.Capacity}). Worked out once, at the first use (the device needs libtorch loaded).
 */
@ApplicationScoped
public class WorkerCapacity {

    private static final Logger LOG = Logger.getLogger(WorkerCapacity.class);
    /** The families peft-engine trains (BERT encoders; GPT-2 and LLaMA-style decoders). */
    public static final List<String> ENGINE_FAMILIES = List.of("bert", "gpt2", "llama", "mistral", "qwen2");
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)i?b?", Pattern.CASE_INSENSITIVE);

    private final WorkerConfig config;
    private volatile Resolved resolved;

    private record Resolved(String device, long memoryBytes, List<String> families) {
    }

    public WorkerCapacity(WorkerConfig config) {
        this.config = config;
    }

    /** The claim's filter. */
    public JobQueue.Capacity capacity() {
        Resolved r = resolve();
        return new JobQueue.Capacity(r.memoryBytes(), r.families());
    }

    /** The message for {@code foundry.workers}. */
    public WorkerCapabilities capabilities(String workerId, String state) {
        Resolved r = resolve();
        return new WorkerCapabilities(workerId, r.device(), r.memoryBytes(), r.families(), state, Instant.now());
    }

    private Resolved resolve() {
        Resolved r = resolved;
        if (r == null) {
            synchronized (this) {
                if (resolved == null) {
                    resolved = compute();
                    LOG.infof("capacity: %s, %d MiB offered to a job, families %s", resolved.device(),
                            resolved.memoryBytes() >> 20, resolved.families());
                }
                r = resolved;
            }
        }
        return r;
    }

    private Resolved compute() {
        List<String> families = config.families().filter(f -> !f.isEmpty())
                .map(f -> f.stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).toList()).orElse(ENGINE_FAMILIES);
        for (String f : families) {
            if (!ENGINE_FAMILIES.contains(f)) {
                throw new IllegalArgumentException("foundry.worker.families (FOUNDRY_WORKER_FAMILIES) names '" + f
                        + "', which peft-engine does not train; choose from " + ENGINE_FAMILIES);
            }
        }
        String memory = config.memory().trim();
        boolean cpuOnly = config.device().trim().equalsIgnoreCase("cpu");
        Device device = cpuOnly ? Device.cpu() : Devices.select(config.device());
        String kind = device.isGpu() ? "gpu" : "cpu";
        long bytes;
        if (!memory.equalsIgnoreCase("auto")) {
            bytes = parseSize(memory);
        } else if (device.isGpu()) {
            bytes = CudaUtils.getGpuMemory(device).getMax();
        } else {
            bytes = Math.max(0, machineMemory() - selfRss());
        }
        return new Resolved(kind, bytes, families);
    }

    /** {@code 6G}, {@code 512M}, {@code 1.5GiB}, {@code 1048576} → bytes (binary units). */
    static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("foundry.worker.memory (FOUNDRY_WORKER_MEMORY) must be auto or a size"
                    + " such as 6G, 512M or a byte count, not '" + text + "'");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        return (long) (Double.parseDouble(m.group(1)) * (1L << shift));
    }

    /** MemTotal, or the cgroup's memory limit when lower (a container). */
    private static long machineMemory() {
        long total = procValue(Path.of("/proc/meminfo"), "MemTotal:");
        if (total <= 0) {
            total = Runtime.getRuntime().maxMemory();
        }
        for (Path limit : List.of(Path.of("/sys/fs/cgroup/memory.max"),
                Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"))) {
            try {
                String v = Files.readString(limit).trim();
                if (!v.equals("max") && !v.isEmpty()) {
                    total = Math.min(total, Long.parseLong(v));
                }
            } catch (IOException | NumberFormatException e) {
                // no such cgroup file: not limited there
            }
        }
        return total;
    }

    private static long selfRss() {
        return Math.max(0, procValue(Path.of("/proc/self/status"), "VmRSS:"));
    }

    /** A "Key:   123 kB" line of a /proc file, in bytes; -1 when absent. */
    private static long procValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * (parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? 1024 : 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: unknown
        }
        return -1;
    }
}
