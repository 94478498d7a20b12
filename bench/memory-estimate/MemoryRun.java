import ai.djl.Device;
import io.peftfoundry.engine.job.TrainingJob;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.TrainingListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One training run measured as the trainer worker measures it (trainer-worker {@code TrainingRun}/{@code PeakMemory}):
 * the kernel's RSS high-water mark is reset (5 → /proc/self/clear_refs), the RSS read (start), the job prepared and run
 * through {@link TrainingJob} — the classes the worker and the CLI's {@code train} run — and the high-water mark read
 * after (peak). peak − start is what the run added, the figure the worker's {@code succeeded} event reports as
 * {@code peak_rss_bytes − start_rss_bytes}. Here the JVM is fresh, so start is taken before libtorch is loaded: its
 * native libraries count in what the run added, as on a worker's first job.
 * Usage: {@code MemoryRun SPEC.json OUT_DIR RESULTS.jsonl LABEL}; appends one JSON line.
 */
public final class MemoryRun {

    public static void main(String[] args) throws Exception {
        Path spec = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path results = Path.of(args[2]);
        String label = args[3];
        boolean reset = reset();
        long start = status("VmRSS:");
        String json = Files.readString(spec);
        TrainingJob job = TrainingJob.fromSpecJson(json, null, Pooling.MEAN);
        TrainingJob.Outcome o = job.run(out, null, new TrainingListener() {
        }, Device.cpu());
        long peak = status("VmHWM:");
        long end = status("VmRSS:");
        String line = String.format(java.util.Locale.ROOT,
                "{\"label\": \"%s\", \"hwm_reset\": %b, \"start_rss_bytes\": %d, \"peak_rss_bytes\": %d, \"end_rss_bytes\": %d,"
                        + " \"added_bytes\": %d, \"steps\": %d, \"trainable_parameters\": %d, \"total_parameters\": %d,"
                        + " \"losses_first_last\": [%s], \"spec\": %s}%n",
                label, reset, start, peak, end, peak - start, o.metrics().path("steps").asLong(),
                o.metrics().path("trainable_parameters").asLong(), o.metrics().path("total_parameters").asLong(),
                o.training().losses().isEmpty() ? "" : o.training().losses().get(0) + ", "
                        + o.training().losses().get(o.training().losses().size() - 1),
                json.strip().replace("\n", " "));
        Files.writeString(results, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.out.print(line);
    }

    private static boolean reset() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static long status(String key) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(key)) {
                return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
