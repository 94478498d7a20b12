package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.method.prefix.PrefixInjector;
import io.peftfoundry.engine.model.bert.BertModel;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrefixTest {

    // P = 3 prefixes, MLP 16 → 8 → 2 layers · 2 · 16 = 64
    private static final PrefixConfig CONFIG = new PrefixConfig(3, 8, true);

    @Test
    void trainingTouchesOnlyPrefixEncoderAndHead() {
        long expected = 3 * 16 + (16 * 8 + 8) + (8 * 64 + 64);
        assertEquals(expected, MethodTestSupport.trainStepsTouchOnlyMethodAndHead(CONFIG, 5, 0));
        // without reparameterisation the (3, 64) table itself is trained
        assertEquals(3 * 64, MethodTestSupport.trainStepsTouchOnlyMethodAndHead(new PrefixConfig(3, 8, false), 1, 0));
    }

    @Test
    void gradientMatchesFiniteDifferencesThroughAttention() {
        MethodTestSupport.gradientMatchesFiniteDifferences(CONFIG, 12);
        MethodTestSupport.gradientMatchesFiniteDifferences(new PrefixConfig(3, 8, false), 24);
    }

    @Test
    void paddingIsStillIgnoredWithPrefixes() {
        MethodTestSupport.paddingIsIgnored(CONFIG);
    }

    @Test
    void prefixTableColumnsAreEachLayersKeyThenValue() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            var prefix = (PrefixInjector.Injected) PeftMethods.byType("prefix").inject(model, CONFIG, m, 3);
            var ps = new ParameterStore(m, false);
            NDArray table = prefix.encoder().table(ps, false);
            assertArrayEquals(new long[] {3, 64}, table.getShape().getShape());
            NDList kv = prefix.encoder().forward(ps, new NDList(m.zeros(new ai.djl.ndarray.types.Shape(2, 5))), false);
            assertEquals(4, kv.size());
            for (int j = 0; j < 4; j++) {
                // block j of the last axis: layer j/2, key (even) or value (odd), broadcast over the batch of 2
                NDArray expected = table.get(":, " + (16 * j) + ":" + (16 * (j + 1)));
                assertArrayEquals(new long[] {2, 3, 16}, kv.get(j).getShape().getShape());
                assertEquals(0.0, TestModels.maxAbsDiff(kv.get(j).get("1, :, :"), expected));
            }
        }
    }

    @Test
    void tokenPositionsStartAfterThePrefixAsInTransformersBert() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel shifted = TestModels.tiny(m, 1);
            BertModel plain = TestModels.tiny(m, 1);
            // a table whose row i is the original row i + 3: numbering from 3 on the original = from 0 on this one
            var pos = plain.embeddings().module("position_embeddings").directParameters().get("weight");
            NDArray original = pos.getArray().duplicate();
            io.peftfoundry.engine.model.HfModule.assign(pos, original.get("3:, :").concat(original.get("0:3, :"), 0));
            NDList in = TestModels.inputs(m, 2, 6, 1, 2);
            var ps = new ParameterStore(m, false);
            NDArray a = shifted.embeddings().forward(ps, new NDList(in.get(0), in.get(1), null, m.create(3L)), false).head();
            NDArray b = plain.embeddings().forward(ps, new NDList(in.get(0), in.get(1)), false).head();
            assertEquals(0.0, TestModels.maxAbsDiff(a, b));
            // and the backbone passes P: 62 tokens after 3 prefixes overflow the 64 positions of the tiny config
            PeftMethods.byType("prefix").inject(shifted, CONFIG, m, 3);
            NDList longIn = TestModels.inputs(m, 1, 62, 0, 2);
            var e = assertThrows(IllegalArgumentException.class, () -> MethodTestSupport.encode(shifted, m, longIn));
            assertTrue(e.getMessage().contains("after 3 prefix positions"), e.getMessage());
        }
    }

    @Test
    void savedAsPeftFinalVectorsAndLoadsBack() throws Exception {
        Map<String, Tensor> onDisk = MethodTestSupport.saveLoadGivesIdenticalOutputs(CONFIG, MethodTestSupport.tempDir());
        // PEFT: one tensor, the MLP's output for the P prefixes: (P, num_layers · 2 · token_dim)
        assertEquals(1, onDisk.size());
        assertArrayEquals(new long[] {3, 2 * 2 * 16}, onDisk.get("prompt_embeddings").shape());
        try (NDManager m = NDManager.newBaseManager()) {
            InjectedMethod prefix = PeftMethods.byType("prefix").inject(TestModels.tiny(m, 1), CONFIG, m, 3);
            var c = prefix.adapterConfig();
            assertEquals("PREFIX_TUNING", c.get("peft_type").asText());
            assertEquals(3, c.get("num_virtual_tokens").asInt());
            assertEquals(16, c.get("token_dim").asInt());
            assertEquals(2, c.get("num_layers").asInt());
            assertEquals(2, c.get("num_attention_heads").asInt());
            assertEquals(8, c.get("encoder_hidden_size").asInt());
            assertTrue(c.get("prefix_projection").asBoolean());
            assertTrue(prefix.keysSavedVerbatim());
            // the projection MLP cannot take final vectors: a clear error instead of a shape mismatch
            var e = assertThrows(java.io.IOException.class, () -> prefix.loadStateDict(onDisk, m));
            assertTrue(e.getMessage().contains("adapter_config.json"), e.getMessage());
            // final vectors for another backbone shape are refused naming the key
            InjectedMethod flat = PeftMethods.byType("prefix").inject(TestModels.tiny(m, 1), new PrefixConfig(3, 8, false), m, 3);
            var wrong = Map.of("prompt_embeddings", Tensor.ofFloats(new long[] {3, 48}, new float[3 * 48]));
            var e2 = assertThrows(java.io.IOException.class, () -> flat.loadStateDict(wrong, m));
            assertTrue(e2.getMessage().contains("prompt_embeddings"), e2.getMessage());
        }
    }

    @Test
    void specDefaultsAndErrorsNameTheField() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals(PrefixConfig.defaults(), MethodTestSupport.fromSpec(("{\"type\":\"prefix\"}")));
        for (String[] bad : new String[][] {
                {"{\"num_virtual_tokens\":0}", "method.prefix.num_virtual_tokens"},
                {"{\"num_virtual_tokens\":2.5}", "method.prefix.num_virtual_tokens"},
                {"{\"projection_hidden_size\":-1}", "method.prefix.projection_hidden_size"},
                {"{\"projection_hidden_size\":9000}", "method.prefix.projection_hidden_size"},
                {"{\"prefix_len\":4}", "method.prefix.prefix_len"}}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> MethodTestSupport.fromSpec(("{\"type\":\"prefix\",\"prefix\":" + bad[0] + "}")));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
        // projection_hidden_size 0 (platform-contracts: "trains the prefix vectors directly")
        assertFalse(((PrefixConfig) MethodTestSupport.fromSpec((
                "{\"type\":\"prefix\",\"prefix\":{\"projection_hidden_size\":0}}"))).prefixProjection());
        assertFalse(PrefixConfig.fromAdapterConfig((com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                "{\"peft_type\":\"PREFIX_TUNING\",\"num_virtual_tokens\":20,\"prefix_projection\":true}")).prefixProjection());
    }

    @Test
    void lossFallsOnToyTask() {
        double[] loss = MethodTestSupport.trainToyTask(new PrefixConfig(4, 16, true));
        assertTrue(loss[1] < 0.6 * loss[0], "loss " + loss[0] + " → " + loss[1]);
    }
}
