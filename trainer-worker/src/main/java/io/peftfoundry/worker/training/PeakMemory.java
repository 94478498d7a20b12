package io.peftfoundry.worker.training;

import io.peftfoundry.engine.job.ResourceUsage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The worker process's peak resident set size for one run. The worker is a long-lived JVM, so the kernel's high-water
 * mark (VmHWM) would otherwise include every earlier job: {@link #reset()} clears it (writing 5 to
 * {@code /proc/self/clear_refs}, Linux ≥ 4.0) before a run, and {@link #peakBytes()} reads it after.
 */
public final class PeakMemory {

    private PeakMemory() {}

    /** Resets the high-water mark to the current RSS; false where the kernel does not allow it (peak then covers the process's life). */
    public static boolean reset() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The current resident set size (VmRSS) in bytes; -1 where /proc is unavailable. */
    public static long currentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Peak RSS since the last reset, in bytes; -1 where /proc is unavailable. */
    public static long peakBytes() {
        return ResourceUsage.peakRssBytes();
    }
}
