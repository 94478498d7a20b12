package io.peftfoundry.contracts.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The peak-memory formula of {@link MemoryEstimate}, worked by hand on MiniLM-L6's shape and a GPT-2-sized decoder. */
class MemoryEstimateTest {

    private static final ObjectMapper JSON = ContractsJson.newMapper();
    /** all-MiniLM-L6-v2: 22,713,216 parameters, H 384, 6 layers, 12 heads, I 1536, V 30522. */
    private static final ModelShape MINILM = new ModelShape("bert", 22_713_216, 384, 6, 12, 1536, 30522);

    private static JobSpec spec(String method, int batch, int seq, String task) {
        return JobSpecs.parse("""
                {"model": "m", "training_file": "f", "task": "%s", "method": %s,
                 "hyperparameters": {"batch_size": %d, "max_seq_length": %d}}""".formatted(task, method, batch, seq));
    }

    @Test
    void loraOnMiniLmByHand() {
        MemoryEstimate e = MemoryEstimate.of(MINILM, spec("{\"type\": \"lora\"}", 16, 128, "classification"));
        // T = L · r · (in+out) over query and value = 6 · 8 · (768 + 768)
        assertEquals(73_728, e.trainableParameters());
        assertEquals(4L * 22_713_216, e.weightsBytes());
        assertEquals(4L * 73_728, e.gradientsBytes());
        // AdamW's moments and the update's temporaries: 36 bytes a trainable parameter (fitted, see MemoryEstimate)
        assertEquals(36L * 73_728, e.optimizerBytes());
        // 4 · B · S · L · (22·H + 4·I + 4·A·S) = 4 · 16 · 128 · 6 · (8,448 + 6,144 + 6,144) = 49,152 · 20,736
        assertEquals(1_019_215_872L, e.activationsBytes());
        assertEquals(MemoryEstimate.WORKSPACE_BYTES, e.workspaceBytes());
        assertEquals(e.weightsBytes() + e.gradientsBytes() + e.optimizerBytes() + e.activationsBytes()
                + e.workspaceBytes(), e.peakBytes());
    }

    @Test
    void fp16HoldsTheWeightsAtTwoBytesAndLeavesTheRestAsAtFp32() {
        MemoryEstimate fp32 = MemoryEstimate.of(MINILM, spec("{\"type\": \"lora\"}", 16, 128, "classification"));
        MemoryEstimate fp16 = MemoryEstimate.of(MINILM, JobSpecs.parse("""
                {"model": "m", "training_file": "f", "task": "classification", "method": {"type": "lora"},
                 "hyperparameters": {"batch_size": 16, "max_seq_length": 128, "precision": "fp16"}}"""));
        assertEquals(2L * 22_713_216, fp16.weightsBytes());
        assertEquals(fp32.peakBytes() - 2L * 22_713_216, fp16.peakBytes());
    }

    @Test
    void bf16HoldsTheWeightsAtTwoBytesAndLeavesTheRestAsAtFp32() {
        MemoryEstimate fp32 = MemoryEstimate.of(MINILM, spec("{\"type\": \"lora\"}", 16, 128, "classification"));
        MemoryEstimate bf16 = MemoryEstimate.of(MINILM, JobSpecs.parse("""
                {"model": "m", "training_file": "f", "task": "classification", "method": {"type": "lora"},
                 "hyperparameters": {"batch_size": 16, "max_seq_length": 128, "precision": "bf16"}}"""));
        assertEquals(2L * 22_713_216, bf16.weightsBytes());
        assertEquals(fp32.peakBytes() - 2L * 22_713_216, bf16.peakBytes());
    }

    @Test
    void fullFineTuneTrainsEveryParameterAndActivationsScaleWithTheBatch() {
        MemoryEstimate full = MemoryEstimate.of(MINILM, spec("{\"type\": \"full\"}", 16, 128, "classification"));
        assertEquals(22_713_216, full.trainableParameters());
        assertEquals(40L * 22_713_216, full.gradientsBytes() + full.optimizerBytes());
        MemoryEstimate twice = MemoryEstimate.of(MINILM, spec("{\"type\": \"full\"}", 32, 128, "classification"));
        assertEquals(2 * full.activationsBytes(), twice.activationsBytes());
    }

    @Test
    void causalTasksAddTheLogitsOverTheVocabulary() {
        // GPT-2 small's sizes; its fused c_attn is H x 3H: T = 12 · 8 · (768 + 2304)
        ModelShape gpt2 = new ModelShape("gpt2", 124_439_808, 768, 12, 12, 3072, 50257);
        MemoryEstimate e = MemoryEstimate.of(gpt2, spec("{\"type\": \"lora\"}", 4, 64, "sft"));
        assertEquals(12L * 8 * (768 + 2304), e.trainableParameters());
        long layers = 4L * 4 * 64 * 12 * (22 * 768 + 4 * 3072 + 4 * 12 * 64);
        long logits = 4L * 4 * 64 * 50257 * 3;
        assertEquals(layers + logits, e.activationsBytes());
    }

    @Test
    void gradientCheckpointingKeepsEachLayersInputAndOneLayersActivations() {
        // Llama-3.2-1B's sizes: H 2048, 16 layers, 32 heads, I 8192, V 128256; LoRA r 16 on q/k/v/o, B 1, S 512
        ModelShape llama = new ModelShape("llama", 1_235_814_400, 2048, 16, 32, 8192, 128_256);
        String method = "{\"type\": \"lora\", \"lora\": {\"r\": 16, \"target_modules\": [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\"]}}";
        MemoryEstimate kept = MemoryEstimate.of(llama, spec(method, 1, 512, "sft"));
        MemoryEstimate recomputed = MemoryEstimate.of(llama, JobSpecs.parse("""
                {"model": "m", "training_file": "f", "task": "sft", "method": %s,
                 "hyperparameters": {"batch_size": 1, "max_seq_length": 512, "gradient_checkpointing": true}}"""
                .formatted(method)));
        long perLayer = 22 * 2048 + 4 * 8192 + 4 * 32 * 512; // 143,360 values per token (the fitted coefficients)
        long logits = 4L * 512 * 128_256 * 3;
        assertEquals(4L * 512 * 16 * perLayer + logits, kept.activationsBytes());
        assertEquals(4L * 512 * (16 * 2048 + perLayer) + logits, recomputed.activationsBytes());
        // 4.7 GB of layer activations become 0.36 GB; everything else is unchanged
        assertEquals(kept.weightsBytes() + kept.gradientsBytes() + kept.optimizerBytes(),
                recomputed.weightsBytes() + recomputed.gradientsBytes() + recomputed.optimizerBytes());
        assertEquals(kept.activationsBytes() - recomputed.activationsBytes(), kept.peakBytes() - recomputed.peakBytes());
    }

    @Test
    void theShapeIsReadFromArtifactStoresModelObject() throws Exception {
        JsonNode bert = JSON.readTree("""
                {"id": "model-1", "family": "bert", "parameters": 22713216,
                 "annotations": {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
                                 "intermediate_size": 1536, "vocab_size": 30522}}""");
        assertEquals(MINILM, ModelShape.fromModelView(bert).orElseThrow());
        // GPT-2's config.json names its sizes n_embd, n_layer, n_head; no n_inner means 4·H
        JsonNode gpt2 = JSON.readTree("""
                {"family": "gpt2", "parameters": 1000,
                 "annotations": {"n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}}""");
        assertEquals(new ModelShape("gpt2", 1000, 64, 2, 4, 256, 100), ModelShape.fromModelView(gpt2).orElseThrow());
        assertFalse(ModelShape.fromModelView(JSON.readTree("{\"family\": \"bert\", \"parameters\": 5}")).isPresent(),
                "without the sizes there is no estimate");
    }

    @Test
    void aWorkerHoldsAJobWhenItLoadsTheFamilyAndOffersTheMemory() throws Exception {
        WorkerCapabilities w = new WorkerCapabilities("w1", "cpu", 1L << 30, List.of("bert"), "up", Instant.EPOCH);
        assertTrue(w.canHold(new JobResources("bert", 1L << 30)));
        assertFalse(w.canHold(new JobResources("bert", (1L << 30) + 1)));
        assertFalse(w.canHold(new JobResources("gpt2", 1L)));
        assertTrue(w.canHold(null));
        assertTrue(w.canHold(new JobResources("bert", null)));
        JsonNode wire = JSON.valueToTree(w);
        assertEquals(1L << 30, wire.path("memory_bytes").asLong());
        assertEquals("bert", wire.path("families").get(0).asText());
        assertEquals(w, JSON.treeToValue(wire, WorkerCapabilities.class));
    }
}
