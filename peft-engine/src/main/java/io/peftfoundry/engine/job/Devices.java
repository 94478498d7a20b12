package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.engine.Engine;

import java.util.Locale;

/**
 * The one device a job trains on, chosen once from a setting ({@code FOUNDRY_DEVICE}, the worker's
 * {@code foundry.worker.device}, the CLI's {@code --device}) and passed to every {@code NDManager} the job creates:
 * {@code cpu}; {@code gpu} (GPU 0) or {@code gpu:N}, failing clearly when DJL does not see that GPU; {@code auto}
 * (GPU 0 when DJL sees one, else the CPU). DJL sees a GPU only with a CUDA build of libtorch (trainer-worker/README.md).
 */
public final class Devices {

    /** The environment variable read by {@link #fromEnvironment()}. */
    public static final String ENV = "FOUNDRY_DEVICE";

    private Devices() {}

    /** The device for {@code setting} (null or blank = {@code auto}). */
    public static Device select(String setting) {
        String s = setting == null || setting.isBlank() ? "auto" : setting.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        if (s.equals("auto")) {
            return gpuCount() > 0 ? Device.gpu() : Device.cpu();
        }
        if (s.equals("gpu") || s.startsWith("gpu:")) {
            int id;
            try {
                id = s.equals("gpu") ? 0 : Integer.parseInt(s.substring(4));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(ENV + " must be auto, cpu, gpu or gpu:N, not '" + setting + "'");
            }
            int gpus = gpuCount();
            if (id < 0 || id >= gpus) {
                throw new IllegalStateException(ENV + "=" + s + " but DJL sees " + gpus + " GPU(s) (engine "
                        + Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion()
                        + "): put a CUDA build of libtorch on the classpath (trainer-worker/README.md) or choose cpu|auto");
            }
            return Device.gpu(id);
        }
        throw new IllegalArgumentException(ENV + " must be auto, cpu, gpu or gpu:N, not '" + setting + "'");
    }

    /** The device named by the {@code FOUNDRY_DEVICE} environment variable ({@code auto} when unset). */
    public static Device fromEnvironment() {
        return select(System.getenv(ENV));
    }

    private static int gpuCount() {
        return Engine.getInstance().getGpuCount();
    }
}
