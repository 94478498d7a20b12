package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.prompt.PromptConfig;
import io.peftfoundry.engine.method.prompt.PromptConfig.Init;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTest {

    private static final PromptConfig CONFIG = new PromptConfig(3, Init.RANDOM);

    @Test
    void trainingTouchesOnlySoftPromptAndHead() {
        assertEquals(3 * 16, MethodTestSupport.trainStepsTouchOnlyMethodAndHead(CONFIG, 1, 0));
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        MethodTestSupport.gradientMatchesFiniteDifferences(CONFIG, 48);
    }

    @Test
    void paddingIsStillIgnoredAndPromptPositionsAreDropped() {
        MethodTestSupport.paddingIsIgnored(CONFIG);
    }

    @Test
    void vocabInitCopiesRowsOfTheFrozenWordEmbeddings() {
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = TestModels.tiny(m, 1);
            Map<String, Tensor> before = BertCheckpoint.backboneTensors(model);
            InjectedMethod prompt = PeftMethods.byType("prompt").inject(model, new PromptConfig(4, Init.VOCAB), m, 3);
            NDArray soft = prompt.trainableParameters().get("prompt_encoder.embedding.weight").getArray();
            NDArray words = model.embeddings().wordEmbeddings().weight().getArray();
            for (int i = 0; i < 4; i++) {
                NDArray row = soft.get(i);
                // exactly one of the 50 rows (random normal rows never coincide)
                long equalRows = words.sub(row.expandDims(0)).abs().sum(new int[] {1}).eq(0).countNonzero().getLong();
                assertEquals(1, equalRows, "prompt row " + i);
            }
            assertEquals(before, BertCheckpoint.backboneTensors(model));
            // a different seed picks other rows
            BertModel other = TestModels.tiny(m, 1);
            NDArray soft2 = PeftMethods.byType("prompt").inject(other, new PromptConfig(4, Init.VOCAB), m, 4)
                    .trainableParameters().get("prompt_encoder.embedding.weight").getArray();
            assertTrue(TestModels.maxAbsDiff(soft, soft2) > 0);
        }
    }

    @Test
    void savedAsPeftPromptEmbeddingsAndLoadsBack() throws Exception {
        Map<String, Tensor> onDisk = MethodTestSupport.saveLoadGivesIdenticalOutputs(CONFIG, MethodTestSupport.tempDir());
        assertEquals(1, onDisk.size());
        assertArrayEquals(new long[] {3, 16}, onDisk.get("prompt_embeddings").shape());
        try (NDManager m = NDManager.newBaseManager()) {
            var c = PeftMethods.byType("prompt").inject(TestModels.tiny(m, 1), new PromptConfig(3, Init.VOCAB), m, 3).adapterConfig();
            assertEquals("PROMPT_TUNING", c.get("peft_type").asText());
            assertEquals("SAMPLE_VOCAB", c.get("prompt_tuning_init").asText());
            assertEquals(16, c.get("token_dim").asInt());
            assertEquals(3, c.get("num_virtual_tokens").asInt());
        }
    }

    @Test
    void specDefaultsAndErrorsNameTheField() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals(PromptConfig.defaults(), MethodTestSupport.fromSpec(("{\"type\":\"prompt\"}")));
        assertEquals(Init.VOCAB, ((PromptConfig) MethodTestSupport.fromSpec((
                "{\"type\":\"prompt\",\"prompt\":{\"init\":\"vocab\",\"num_virtual_tokens\":8}}"))).init());
        for (String[] bad : new String[][] {
                {"{\"num_virtual_tokens\":1000}", "method.prompt.num_virtual_tokens"},
                {"{\"init\":\"text\"}", "method.prompt.init"},
                {"{\"init\":3}", "method.prompt.init"},
                {"{\"tokens\":3}", "method.prompt.tokens"}}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> MethodTestSupport.fromSpec(("{\"type\":\"prompt\",\"prompt\":" + bad[0] + "}")));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    @Test
    void lossFallsOnToyTask() {
        double[] loss = MethodTestSupport.trainToyTask(new PromptConfig(4, Init.VOCAB));
        assertTrue(loss[1] < 0.6 * loss[0], "loss " + loss[0] + " → " + loss[1]);
    }
}
