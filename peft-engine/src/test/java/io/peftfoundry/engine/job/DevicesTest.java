package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FOUNDRY_DEVICE settings: what each one selects, and clear refusals (this build has the CPU libtorch only). */
class DevicesTest {

    @Test
    void cpuAndAutoSelectTheCpuWhenDjlSeesNoGpu() {
        assertEquals(0, Engine.getInstance().getGpuCount(), "this test assumes the CPU build of libtorch");
        assertEquals(Device.cpu(), Devices.select("cpu"));
        assertEquals(Device.cpu(), Devices.select(" CPU "));
        assertEquals(Device.cpu(), Devices.select("auto"));
        assertEquals(Device.cpu(), Devices.select(null));
    }

    @Test
    void aGpuDjlDoesNotSeeIsRefusedNamingTheSettingAndTheFix() {
        IllegalStateException gpu = assertThrows(IllegalStateException.class, () -> Devices.select("gpu"));
        assertTrue(gpu.getMessage().startsWith("FOUNDRY_DEVICE=gpu but DJL sees 0 GPU(s)"), gpu.getMessage());
        IllegalStateException second = assertThrows(IllegalStateException.class, () -> Devices.select("gpu:1"));
        assertTrue(second.getMessage().contains("CUDA build of libtorch"), second.getMessage());
    }

    @Test
    void anUnknownSettingIsRefusedListingTheValidOnes() {
        for (String bad : new String[] {"tpu", "gpu:", "gpu:x", "cuda"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.select(bad));
            assertEquals("FOUNDRY_DEVICE must be auto, cpu, gpu or gpu:N, not '" + bad + "'", e.getMessage());
        }
    }
}
