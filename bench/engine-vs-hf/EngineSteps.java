import io.peftfoundry.engine.job.Devices;
import io.peftfoundry.engine.job.TrainingJob;
import io.peftfoundry.engine.task.classification.Pooling;
import io.peftfoundry.engine.training.TrainingListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The engine side of bench/engine-vs-hf: runs one job spec through the same job classes as {@code engine train} and
 * the trainer worker ({@code ClassificationTrainingJob}, or {@code CausalTrainingJob} for sft), and records when each
 * optimizer step ended ({@code TrainingListener.onStep} is called right after the step). Step k's time is the
 * interval between the ends of steps k-1 and k; the data is tokenised before step 1 (as on the HF side).
 *
 * <p>Usage (compiled by the run script against the engine jar): {@code EngineSteps SPEC.json OUT_DIR RESULT.json}.
 * Writes {@code {"step_seconds": [...], "step_cpu_seconds": [...]}} (wall and process CPU time per step) to RESULT.json; the process's peak RSS is taken
 * from outside ({@code /usr/bin/time}) as for the Python side.
 */
public final class EngineSteps {

    public static void main(String[] args) throws IOException {
        Path spec = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path result = Path.of(args[2]);
        String json = Files.readString(spec);
        List<Long> ends = new ArrayList<>();
        List<Long> cpu = new ArrayList<>();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long[] start = {System.nanoTime(), os.getProcessCpuTime()};
        // BENCH_PROFILE_STEP=k: a PyTorch profiler trace of step k+1 (from the end of step k to the end of step k+1)
        long profileAfter = Long.parseLong(System.getenv().getOrDefault("BENCH_PROFILE_STEP", "0"));
        String profileOut = System.getenv("BENCH_PROFILE_OUT");
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStep(long step, long totalSteps, int epoch, double loss, double learningRate,
                    double tokensPerSecond, double etaSeconds) {
                if (profileAfter > 0 && step == profileAfter + 1) {
                    ai.djl.pytorch.jni.JniUtils.stopProfile(profileOut);
                }
                ends.add(System.nanoTime());
                cpu.add(os.getProcessCpuTime());
                if (profileAfter > 0 && step == profileAfter) {
                    ai.djl.pytorch.jni.JniUtils.startProfile(false, false, false);
                }
                System.err.printf(Locale.ROOT, "engine step %d/%d loss %.4f%n", step, totalSteps, loss);
            }
        };
        TrainingJob job = TrainingJob.fromSpecJson(json, null, Pooling.MEAN);
        start[0] = System.nanoTime();
        start[1] = os.getProcessCpuTime();
        job.run(out, null, listener, Devices.fromEnvironment());
        StringBuilder sb = new StringBuilder("{\"step_seconds\": [");
        long prev = start[0];
        for (int i = 0; i < ends.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.6f", (ends.get(i) - prev) / 1e9));
            prev = ends.get(i);
        }
        sb.append("], \"step_cpu_seconds\": [");
        prev = start[1];
        for (int i = 0; i < cpu.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.6f", (cpu.get(i) - prev) / 1e9));
            prev = cpu.get(i);
        }
        sb.append("]}\n");
        Files.writeString(result, sb.toString());
    }
}
