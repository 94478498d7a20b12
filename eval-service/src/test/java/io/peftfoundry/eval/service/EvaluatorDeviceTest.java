package io.peftfoundry.eval.service;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.eval.config.EvalConfig;
import io.peftfoundry.eval.support.ArtifactStoreProcess;
import io.peftfoundry.eval.support.JobApiStub;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Evaluations run on the service's configured device ({@code foundry.eval.device} = {@code FOUNDRY_DEVICE}), chosen
 * as the trainer worker chooses its device; that peft-engine's causal evaluation then creates its arrays on it is
 * CausalTrainingJobTest.evaluationRunsOnTheDeviceItIsGiven. A Quarkus test because libtorch is loaded once, in the
 * application's class loader, for every test of this module.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = JobApiStub.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = ArtifactStoreProcess.class, scope = TestResourceScope.GLOBAL)
class EvaluatorDeviceTest {

    @Inject
    EvalConfig config;

    @Test
    void theConfiguredDeviceIsTheOneEvaluationsRunOn() {
        Device auto = Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        String env = System.getenv("FOUNDRY_DEVICE");
        assertEquals(env == null || env.isBlank() ? "auto" : env, config.device(), "foundry.eval.device follows FOUNDRY_DEVICE");
        assertEquals(Device.cpu(), new PeftEngineEvaluator(null, "cpu").device());
        assertEquals(auto, new PeftEngineEvaluator(null, "auto").device());
    }

    @Test
    void aGpuTheEngineDoesNotSeeFailsNamingTheSetting() {
        assumeTrue(Engine.getInstance().getGpuCount() == 0, "needs a machine without a GPU that DJL sees");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new PeftEngineEvaluator(null, "gpu:1").device());
        assertTrue(e.getMessage().contains("FOUNDRY_DEVICE=gpu:1"), e.getMessage());
    }
}
