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

/** The peak-memory formula of {@link MemoryEstimate}, worked by hand on MiniLM-L6's, GPT-2's and Llama-3.2-1B's shapes. */
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

    /** GPT-2 small's published sizes; its fused c_attn is H x 3H. */
    private static final ModelShape GPT2 = new ModelShape("gpt2", 124_439_808, 768, 12, 12, 3072, 50257);
    /** Llama-3.2-1B's published sizes (tied embeddings: 1,235,814,400 stored elements), as bench/llm-1b builds it. */
    private static final ModelShape LLAMA_1B = new ModelShape("llama", 1_235_814_400, 2048, 16, 32, 8192, 128_256);
    private static final String LORA_QKVO =
            "{\"type\": \"lora\", \"lora\": {\"r\": 16, \"target_modules\": [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\"]}}";

    private static JobSpec decoderSpec(String method, int batch, int seq, String precision, boolean checkpointing) {
        return JobSpecs.parse("""
                {"model": "m", "training_file": "f", "task": "sft", "method": %s,
                 "hyperparameters": {"batch_size": %d, "max_seq_length": %d, "precision": "%s",
                                     "gradient_checkpointing": %b}}""".formatted(method, batch, seq, precision, checkpointing));
    }

    @Test
    void gpt2KeepsItsAttentionScoresAndItsLoraInputsAndCausalTasksAddTheLogits() {
        MemoryEstimate e = MemoryEstimate.of(GPT2, spec("{\"type\": \"lora\"}", 4, 64, "sft"));
        assertEquals(12L * 8 * (768 + 2304), e.trainableParameters());
        // decoder coefficients: 15·H + 6·I + 2·Σin + 10·A·S per token and layer (GPT-2's eager attention keeps its
        // scores; LoRA on c_attn keeps its H-wide input twice)
        long layers = 4L * 4 * 64 * 12 * (15 * 768 + 6 * 3072 + 2 * 768 + 10 * 12 * 64);
        long logits = 4L * 4 * 64 * 50257 * 4;
        assertEquals(layers + logits, e.activationsBytes());
        // a decoder's fixed part: 512 MiB
        assertEquals(512L << 20, e.workspaceBytes());
    }

    @Test
    void fusedAttentionDecodersCountNoScoreMatrix() {
        MemoryEstimate at512 = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "fp32", false));
        long layers = 4L * 512 * 16 * (15 * 2048 + 6 * 8192 + 2 * 4 * 2048);
        assertEquals(layers + 4L * 512 * 128_256 * 4, at512.activationsBytes());
        // with no A·S term, doubling S doubles the activations (an eager model's would grow faster)
        MemoryEstimate at1024 = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 1024, "fp32", false));
        assertEquals(2 * at512.activationsBytes(), at1024.activationsBytes());
        MemoryEstimate eager = MemoryEstimate.of(new ModelShape("gpt2", 1_235_814_400, 2048, 16, 32, 8192, 128_256),
                decoderSpec(LORA_QKVO, 1, 512, "fp32", false));
        assertEquals(4L * 512 * 16 * 10 * 32 * 512,
                eager.activationsBytes() - at512.activationsBytes(), "the same sizes with eager attention add 10·A·S");
    }

    @Test
    void bf16DecoderEstimatesLessThanFp32HalvingTheWeightsAndTakingThreeTwentiethsOffTheLayerActivations() {
        MemoryEstimate fp32 = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "fp32", false));
        MemoryEstimate bf16 = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "bf16", false));
        assertTrue(bf16.peakBytes() < fp32.peakBytes());
        assertEquals(2L * 1_235_814_400, bf16.weightsBytes());
        long layers = 4L * 512 * 16 * (15 * 2048 + 6 * 8192 + 2 * 4 * 2048);
        long logits = 4L * 512 * 128_256 * 4;
        assertEquals(layers / 20 * 17 + logits, bf16.activationsBytes(), "the bf16 SwiGLU block: 17/20 of the layer term");
        assertEquals(fp32.workspaceBytes(), bf16.workspaceBytes());
        // checkpointed at bf16: half the checkpointed term
        long checkpointed = 4L * 512 * (10 * 16 * 2048 + 15 * 2048 + 6 * 8192 + 2 * 4 * 2048);
        assertEquals(checkpointed / 2 + logits,
                MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "bf16", true)).activationsBytes());
        // LoRA on a feed-forward module keeps that block partly float32: no 17/20 then (and down_proj's input is I wide)
        String mlp = "{\"type\": \"lora\", \"lora\": {\"r\": 16, \"target_modules\": [\"q_proj\", \"down_proj\"]}}";
        assertEquals(4L * 512 * 16 * (15 * 2048 + 6 * 8192 + 2 * (2048 + 8192)) + logits,
                MemoryEstimate.of(LLAMA_1B, decoderSpec(mlp, 1, 512, "bf16", false)).activationsBytes());
        // fp16 halves the weights but keeps the activations as at fp32 (measured: fp16 1,439 MiB, fp32 1,698, bf16 1,298)
        MemoryEstimate fp16 = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "fp16", false));
        assertEquals(fp32.activationsBytes(), fp16.activationsBytes());
        assertTrue(bf16.peakBytes() < fp16.peakBytes() && fp16.peakBytes() < fp32.peakBytes());
    }

    @Test
    void gradientCheckpointingReplacesTheLayerTermByTenHPerLayerAndOneLayersActivations() {
        MemoryEstimate kept = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "fp32", false));
        MemoryEstimate recomputed = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "fp32", true));
        long perLayer = 15 * 2048 + 6 * 8192 + 2 * 4 * 2048; // 96,256 values per token
        long logits = 4L * 512 * 128_256 * 4;
        assertEquals(4L * 512 * 16 * perLayer + logits, kept.activationsBytes());
        assertEquals(4L * 512 * (10 * 16 * 2048 + perLayer) + logits, recomputed.activationsBytes());
        // 3.15 GB of layer activations become 0.87 GB; everything else is unchanged
        assertEquals(kept.weightsBytes() + kept.gradientsBytes() + kept.optimizerBytes() + kept.workspaceBytes(),
                recomputed.weightsBytes() + recomputed.gradientsBytes() + recomputed.optimizerBytes()
                        + recomputed.workspaceBytes());
        long saved = 4L * 512 * (16 * perLayer - 10 * 16 * 2048 - perLayer);
        assertEquals(saved, kept.peakBytes() - recomputed.peakBytes());
        // on a 2-layer model checkpointing saves little: the 10·L·H it keeps nearly equals the layer it drops
        ModelShape twoLayers = new ModelShape("llama", 384_313_344, 2048, 2, 32, 8192, 128_256);
        assertEquals(4L * 512 * (perLayer - 10 * 2 * 2048),
                MemoryEstimate.of(twoLayers, decoderSpec(LORA_QKVO, 1, 512, "fp32", false)).peakBytes()
                        - MemoryEstimate.of(twoLayers, decoderSpec(LORA_QKVO, 1, 512, "fp32", true)).peakBytes());
    }

    /**
     * bench/llm-1b's measured run (docs/benchmarks.md, section llm-1b, 2026-12-05 17:43 UTC, main e7be11d): a
     * Llama-3.2-1B-shaped bf16 checkpoint, LoRA r 16 on q/k/v/o_proj, one row of 512 tokens, batch 1 — the engine's
     * peak RSS was 5,316 MiB (/usr/bin/time, the whole process).
     */
    private static final long LLM_1B_MEASURED_PEAK_RSS = 5_316L << 20;

    @Test
    void aLlama1bBf16LoraJobAtSeq512EstimatesBetweenTheMeasuredPeakAnd1point3TimesIt() {
        MemoryEstimate e = MemoryEstimate.of(LLAMA_1B, decoderSpec(LORA_QKVO, 1, 512, "bf16", false));
        assertTrue(e.peakBytes() >= LLM_1B_MEASURED_PEAK_RSS, MemoryEstimate.human(e.peakBytes()));
        assertTrue(e.peakBytes() <= LLM_1B_MEASURED_PEAK_RSS * 13 / 10, MemoryEstimate.human(e.peakBytes()));
    }

    @Test
    void encodersKeepTheirOwnCoefficients() {
        // a BERT and a LLaMA of the same sizes: the encoder's count is 22·H + 4·I + 4·A·S and 192 MiB, the decoder's
        // 15·H + 6·I + 2·Σin (LoRA on q and v: 2·H in)
        ModelShape bertLike = new ModelShape("bert", 22_713_216, 384, 6, 12, 1536, 30522);
        ModelShape llamaLike = new ModelShape("llama", 22_713_216, 384, 6, 12, 1536, 30522);
        MemoryEstimate enc = MemoryEstimate.of(bertLike, spec("{\"type\": \"lora\", \"lora\": {\"target_modules\": [\"q_proj\", \"v_proj\"]}}", 8, 128, "classification"));
        MemoryEstimate dec = MemoryEstimate.of(llamaLike, spec("{\"type\": \"lora\", \"lora\": {\"target_modules\": [\"q_proj\", \"v_proj\"]}}", 8, 128, "classification"));
        assertEquals(4L * 8 * 128 * 6 * (22 * 384 + 4 * 1536 + 4 * 12 * 128), enc.activationsBytes());
        assertEquals(4L * 8 * 128 * 6 * (15 * 384 + 6 * 1536 + 2 * 2 * 384), dec.activationsBytes());
        assertEquals(MemoryEstimate.WORKSPACE_BYTES, enc.workspaceBytes());
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
