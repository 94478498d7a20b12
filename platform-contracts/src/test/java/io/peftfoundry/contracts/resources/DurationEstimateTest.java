package io.peftfoundry.contracts.resources;

import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training-time estimate of {@link DurationEstimate}, worked by hand on MiniLM-L6's shape. */
class DurationEstimateTest {

    private static final ModelShape MINILM = new ModelShape("bert", 22_713_216, 384, 6, 12, 1536, 30522);

    private static JobSpec spec(String method, String hyperparameters) {
        return JobSpecs.parse("""
                {"model": "m", "training_file": "f", "method": {"type": "%s"}, "hyperparameters": %s}"""
                .formatted(method, hyperparameters));
    }

    @Test
    void stepsAreCountedAsTheEngineCountsThem() {
        // ⌈100 / 16⌉ = 7 micro-batches, ⌈7 / 2⌉ = 4 optimizer steps an epoch, 3 epochs
        JobSpec s = spec("lora", "{\"epochs\": 3, \"batch_size\": 16, \"gradient_accumulation_steps\": 2}");
        assertEquals(12, DurationEstimate.steps(s.hyperparameters(), 100));
        JobSpec capped = spec("lora", "{\"epochs\": 3, \"batch_size\": 16, \"max_steps\": 5}");
        assertEquals(5, DurationEstimate.steps(capped.hyperparameters(), 100), "max_steps caps the total");
        assertEquals(5, DurationEstimate.steps(capped.hyperparameters(), 0), "max_steps alone is enough");
        assertFalse(DurationEstimate.seconds(MINILM, spec("lora", "{\"epochs\": 3}"), 0).isPresent(),
                "neither the examples nor max_steps known: no estimate");
    }

    @Test
    void aLoraStepOfMiniLmByHand() {
        JobSpec s = spec("lora", "{\"epochs\": 1, \"batch_size\": 16, \"max_seq_length\": 128, \"max_steps\": 10}");
        // per token: L·(4·H² + 2·H·I + 2·S·H) = 6 · (589,824 + 1,179,648 + 98,304) = 11,206,656 FLOPs / 2
        // forward = 2 · 2,048 tokens · 11,206,656; LoRA: 2 passes; at 1e11 FLOP/s, plus 0.1 s a step
        double step = 2.0 * 2048 * 11_206_656 * 2 / 1e11 + 0.1;
        assertEquals(step, DurationEstimate.stepSeconds(MINILM, s), 1e-12);
        assertEquals(10 * step, DurationEstimate.seconds(MINILM, s, 1000).getAsDouble(), 1e-9);
    }

    @Test
    void gradientCheckpointingAddsOneForwardOfTheLayersNotOfTheLogits() {
        ModelShape gpt2 = new ModelShape("gpt2", 124_439_808, 768, 12, 12, 3072, 50257);
        String spec = """
                {"model": "m", "training_file": "f", "task": "sft", "method": {"type": "lora"},
                 "hyperparameters": {"batch_size": 4, "max_seq_length": 64, "max_steps": 10%s}}""";
        double plain = DurationEstimate.stepSeconds(gpt2, JobSpecs.parse(spec.formatted("")));
        double checkpointed = DurationEstimate.stepSeconds(gpt2,
                JobSpecs.parse(spec.formatted(", \"gradient_checkpointing\": true")));
        // per token: layers 12 · (4·768² + 2·768·3072 + 2·64·768) = 86,114,304; logits 768 · 50,257 = 38,597,376;
        // 256 tokens, 2 passes (LoRA), and with checkpointing the layers' forward once more
        double layers = 2.0 * 256 * 86_114_304;
        double logits = 2.0 * 256 * 38_597_376;
        assertEquals((layers + logits) * 2 / 1e11 + 0.1, plain, 1e-12);
        assertEquals(((layers + logits) * 2 + layers) / 1e11 + 0.1, checkpointed, 1e-12);
    }

    @Test
    void aFullFineTuneCostsAThirdPassAndMoreStepsTakeLonger() {
        // 1,000 examples at batch 16: 63 steps an epoch, so max_steps (10 or 100) sets the count
        String h = "{\"epochs\": 3, \"batch_size\": 16, \"max_seq_length\": 128, \"max_steps\": 10}";
        double lora = DurationEstimate.stepSeconds(MINILM, spec("lora", h)) - 0.1;
        double full = DurationEstimate.stepSeconds(MINILM, spec("full", h)) - 0.1;
        assertEquals(1.5, full / lora, 1e-12);
        double ten = DurationEstimate.seconds(MINILM, spec("lora", h), 1000).getAsDouble();
        double hundred = DurationEstimate.seconds(MINILM, spec("lora", h.replace("10}", "100}")), 1000).getAsDouble();
        assertEquals(10.0, hundred / ten, 1e-9);
        assertTrue(DurationEstimate.stepSeconds(MINILM, spec("lora", h.replace("16", "32")))
                > DurationEstimate.stepSeconds(MINILM, spec("lora", h)));
    }
}
