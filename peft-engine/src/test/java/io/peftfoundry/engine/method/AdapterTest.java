package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.adapter.AdapterConfig;
import io.peftfoundry.engine.method.adapter.AdapterConfig.Variant;
import io.peftfoundry.engine.model.bert.BertModel;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdapterTest {

    // TINY: hidden 16, 2 layers, FFN 32. Reduction factor 4 → bottleneck 4; one adapter = 16·4 + 4 + 4·16 + 16 = 148 parameters
    private static final int PER_ADAPTER = 16 * 4 + 4 + 4 * 16 + 16;

    private static AdapterConfig config(Variant v, String activation) {
        return AdapterConfig.of(v, 4, activation);
    }

    @Test
    void everyVariantStartsAsTheIdentity() {
        for (Variant v : Variant.values()) {
            try (NDManager m = NDManager.newBaseManager()) {
                BertModel model = TestModels.tiny(m, 1);
                NDList in = TestModels.inputs(m, 2, 6, 1, 2);
                NDArray before = MethodTestSupport.encode(model, m, in);
                PeftMethods.byType("adapter").inject(model, config(v, "relu"), m, 3);
                // up-projection weight and bias are exactly 0: p + s·0 = p, bit for bit
                assertEquals(0.0, TestModels.maxAbsDiff(before, MethodTestSupport.encode(model, m, in)), v.toString());
            }
        }
    }

    @Test
    void houlsbyAdaptsBothSublayersPfeifferAndParallelOnlyTheFfn() {
        try (NDManager m = NDManager.newBaseManager()) {
            var houlsby = PeftMethods.byType("adapter").inject(TestModels.tiny(m, 1), config(Variant.HOULSBY, "relu"), m, 3);
            assertTrue(houlsby.trainableParameters().containsKey("encoder.layer.1.attention.output.adapters.default.adapter_down.0.weight"));
            assertTrue(houlsby.trainableParameters().containsKey("encoder.layer.1.output.adapters.default.adapter_up.bias"));
            assertEquals(2 * 2 * 4, houlsby.trainableParameters().size());
            for (Variant v : new Variant[] {Variant.PFEIFFER, Variant.PARALLEL}) {
                var method = PeftMethods.byType("adapter").inject(TestModels.tiny(m, 1), config(v, "relu"), m, 3);
                assertEquals(2 * 4, method.trainableParameters().size());
                assertTrue(method.trainableParameters().keySet().stream().noneMatch(k -> k.contains("attention")));
            }
        }
    }

    @Test
    void trainingTouchesOnlyAdaptersAndHead() {
        assertEquals(4L * PER_ADAPTER, MethodTestSupport.trainStepsTouchOnlyMethodAndHead(config(Variant.HOULSBY, "relu"), 16, 0.1));
        assertEquals(2L * PER_ADAPTER, MethodTestSupport.trainStepsTouchOnlyMethodAndHead(config(Variant.PFEIFFER, "gelu"), 8, 0.1));
        assertEquals(2L * PER_ADAPTER, MethodTestSupport.trainStepsTouchOnlyMethodAndHead(config(Variant.PARALLEL, "tanh"), 8, 0.1));
    }

    @Test
    void gradientsMatchFiniteDifferencesForEachVariant() {
        // smooth activations, so that no sample sits on a ReLU kink
        MethodTestSupport.gradientMatchesFiniteDifferences(config(Variant.HOULSBY, "gelu"), 12);
        MethodTestSupport.gradientMatchesFiniteDifferences(config(Variant.PFEIFFER, "swish"), 12);
        MethodTestSupport.gradientMatchesFiniteDifferences(config(Variant.PARALLEL, "tanh"), 12);
    }

    @Test
    void savedInAdapterHubLayoutAndLoadsBack() throws Exception {
        for (Variant v : Variant.values()) {
            Map<String, Tensor> onDisk = MethodTestSupport.saveLoadGivesIdenticalOutputs(config(v, "relu"), MethodTestSupport.tempDir());
            assertTrue(onDisk.containsKey("bert.encoder.layer.0.output.adapters.default.adapter_down.0.weight"), onDisk.keySet().toString());
            assertTrue(onDisk.containsKey("bert.encoder.layer.1.output.adapters.default.adapter_up.weight"));
            assertEquals(v == Variant.HOULSBY, onDisk.containsKey("bert.encoder.layer.0.attention.output.adapters.default.adapter_up.bias"));
            assertEquals(4, onDisk.get("bert.encoder.layer.0.output.adapters.default.adapter_down.0.weight").shape()[0]);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            var method = PeftMethods.byType("adapter").inject(TestModels.tiny(m, 1), config(Variant.PFEIFFER, "relu"), m, 3);
            assertEquals("adapter.safetensors", method.weightsFileName());
            ObjectNode c = method.adapterConfig();
            assertEquals("default", c.get("name").asText());
            assertEquals("text_task", c.get("type").asText());
            ObjectNode bn = (ObjectNode) c.get("config");
            assertFalse(bn.get("mh_adapter").asBoolean());
            assertTrue(bn.get("output_adapter").asBoolean());
            assertTrue(bn.get("original_ln_before").asBoolean());
            assertTrue(bn.get("residual_before_ln").asBoolean());
            assertEquals(4, bn.get("reduction_factor").asInt());
            assertEquals("relu", bn.get("non_linearity").asText());
        }
    }

    @Test
    void readsAnAdapterHubHoulsbyConfig() throws Exception {
        // the fields AdapterHub's DoubleSeqBnConfig writes
        String json = "{\"name\":\"sst\",\"config\":{\"mh_adapter\":true,\"output_adapter\":true,\"reduction_factor\":16,"
                + "\"non_linearity\":\"swish\",\"original_ln_before\":false,\"original_ln_after\":true,\"ln_before\":false,"
                + "\"ln_after\":false,\"is_parallel\":false,\"scaling\":1.0,\"residual_before_ln\":true,\"leave_out\":[]},"
                + "\"model_name\":\"bert-base-uncased\",\"type\":\"text_task\"}";
        AdapterConfig c = AdapterConfig.fromAdapterConfig((ObjectNode) new ObjectMapper().readTree(json));
        assertEquals(Variant.HOULSBY, c.variant());
        assertEquals("swish", c.activation());
        assertEquals("sst", c.name());
        assertEquals(16, c.reductionFactor());
    }

    @Test
    void specDefaultsAndErrorsNameTheField() throws Exception {
        ObjectMapper json = new ObjectMapper();
        AdapterConfig d = (AdapterConfig) MethodTestSupport.fromSpec(("{\"type\":\"adapter\"}"));
        assertEquals(AdapterConfig.defaults(), d);
        // the defaults platform-contracts documents for method.adapter
        assertEquals(Variant.PFEIFFER, d.variant());
        assertEquals(16, d.reductionFactor());
        assertEquals("relu", d.activation());
        AdapterConfig p = (AdapterConfig) MethodTestSupport.fromSpec((
                "{\"type\":\"adapter\",\"adapter\":{\"variant\":\"parallel\",\"reduction_factor\":8,\"activation\":\"silu\"}}"));
        assertEquals(Variant.PARALLEL, p.variant());
        assertEquals(4.0, p.scaling());
        assertEquals("swish", p.activation());
        for (String[] bad : new String[][] {
                {"{\"variant\":\"sideways\"}", "method.adapter.variant"},
                {"{\"reduction_factor\":0.5}", "method.adapter.reduction_factor"},
                {"{\"reduction_factor\":2.5}", "method.adapter.reduction_factor"},
                {"{\"reduction_factor\":2048}", "method.adapter.reduction_factor"},
                {"{\"activation\":\"softmax\"}", "method.adapter.activation"},
                {"{\"rank\":4}", "method.adapter.rank"}}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> MethodTestSupport.fromSpec(("{\"type\":\"adapter\",\"adapter\":" + bad[0] + "}")));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    @Test
    void lossFallsOnToyTask() {
        for (Variant v : Variant.values()) {
            double[] loss = MethodTestSupport.trainToyTask(AdapterConfig.of(v, 4, "relu"));
            assertTrue(loss[1] < 0.6 * loss[0], v + " loss " + loss[0] + " → " + loss[1]);
        }
    }
}
