package io.peftfoundry.worker.training;

import ai.djl.Device;
import ai.djl.engine.Engine;

import java.util.Locale;

/**
 * {@code FOUNDRY_DEVICE}: {@code cpu}; {@code gpu} (fails clearly when DJL sees none); {@code auto} (the first GPU
 * when DJL sees one, else the CPU). DJL sees a GPU only with the CUDA build of libtorch on the classpath (README).
 */
public final class DeviceSelector {

    private DeviceSelector() {
    }

    public static Device select(String setting) {
        String s = setting == null ? "auto" : setting.trim().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "cpu" -> Device.cpu();
            case "gpu" -> {
                int gpus = Engine.getInstance().getGpuCount();
                if (gpus == 0) {
                    throw new IllegalStateException("FOUNDRY_DEVICE=gpu but DJL sees no GPU (engine "
                            + Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion()
                            + "): put the CUDA build of libtorch on the classpath (trainer-worker/README.md) "
                            + "or set FOUNDRY_DEVICE=auto|cpu");
                }
                yield Device.gpu();
            }
            case "auto" -> Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            default -> throw new IllegalArgumentException("FOUNDRY_DEVICE must be auto, cpu or gpu, not '" + setting + "'");
        };
    }
}
