package io.peftfoundry.engine.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.TestModels;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.LabelMap;
import io.peftfoundry.engine.task.classification.Pooling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdapterFilesTest {

    @TempDir
    Path dir;

    private static final LabelMap LABELS = new LabelMap(List.of("billing", "bug", "praise"));
    private static final LoraConfig LORA = new LoraConfig(4, 8, 0.0, List.of("query", "value", "output.dense"), false);

    /** Random values for every trainable parameter, as if trained (LoRA B and the head start at 0/small). */
    private static void perturb(ClassificationModel model, NDManager m) {
        Random r = new Random(4);
        for (Parameter p : model.trainableParameters().values()) {
            Shape s = p.getArray().getShape();
            float[] v = new float[(int) s.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * 0.1);
            }
            HfModule.assign(p, m.create(v, s));
        }
    }

    private static NDArray logits(ClassificationModel model, NDManager m) {
        return model.logits(TestModels.inputs(m, 3, 7, 2, 8), false);
    }

    @Test
    void loraSaveThenLoadGivesIdenticalOutputsInPeftLayout() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), LORA, LABELS, Pooling.MEAN, m, 2);
            perturb(model, m);
            NDArray before = logits(model, m);
            AdapterFiles.save(model, dir, "tiny-bert");

            var keys = SafeTensors.read(dir.resolve("adapter_model.safetensors")).keySet();
            assertTrue(keys.contains("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"), keys.toString());
            assertTrue(keys.contains("base_model.model.bert.encoder.layer.1.output.dense.lora_B.weight"), keys.toString());
            assertTrue(keys.contains("base_model.model.classifier.weight") && keys.contains("base_model.model.classifier.bias"));
            // query, value, attention.output.dense, output.dense per layer × (A, B) × 2 layers + head
            assertEquals(4 * 2 * 2 + 2, keys.size());
            var cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            assertEquals("LORA", cfg.get("peft_type").asText());
            assertEquals("SEQ_CLS", cfg.get("task_type").asText());
            assertEquals(4, cfg.get("r").asInt());
            assertEquals(8, cfg.get("lora_alpha").asInt());
            assertEquals("classifier", cfg.get("modules_to_save").get(0).asText());
            assertEquals("tiny-bert", cfg.get("base_model_name_or_path").asText());

            ClassificationModel loaded = AdapterFiles.load(dir, TestModels.tiny(m, 1), m);
            assertEquals(LABELS.labels(), loaded.labels().labels());
            assertEquals(0.0, TestModels.maxAbsDiff(before, logits(loaded, m)));
        }
    }

    @Test
    void everyRegisteredMethodRoundTripsThroughItsFiles() throws Exception {
        for (String type : List.of("adapter", "prefix", "prompt", "ia3")) {
            try (NDManager m = NDManager.newBaseManager()) {
                var method = io.peftfoundry.engine.method.PeftMethods.fromSpec(
                        new io.peftfoundry.contracts.spec.MethodSpec(io.peftfoundry.contracts.spec.MethodType.fromWire(type), null, null, null, null,
                                null), "bert");
                ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), method, LABELS, Pooling.MEAN, m, 2);
                perturb(model, m);
                NDArray before = logits(model, m);
                Path d = dir.resolve(type);
                AdapterFiles.save(model, d, "tiny-bert");
                ClassificationModel loaded = AdapterFiles.load(d, TestModels.tiny(m, 1), m);
                assertEquals(0.0, TestModels.maxAbsDiff(before, logits(loaded, m)), type);
            }
        }
    }

    @Test
    void loadingOntoAnotherBackboneNamesTheMismatch() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), LORA, LABELS, Pooling.MEAN, m, 2);
            AdapterFiles.save(model, dir, "tiny-bert");
            BertModel shallow = BertCheckpoint.random(BertConfig.tiny(50, 16, 1, 2, 32), m, 1, DataType.FLOAT32);
            var e = assertThrows(IOException.class, () -> AdapterFiles.load(dir, shallow, m));
            assertTrue(e.getMessage().contains("num_hidden_layers 2 (adapter) vs 1 (backbone)"), e.getMessage());

            // without the recorded backbone shape, the tensors themselves say what does not fit
            var labels = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(dir.resolve("labels.json").toFile());
            labels.remove("backbone");
            new ObjectMapper().writeValue(dir.resolve("labels.json").toFile(), labels);
            BertModel narrow = BertCheckpoint.random(BertConfig.tiny(50, 8, 2, 2, 32), m, 1, DataType.FLOAT32);
            e = assertThrows(IOException.class, () -> AdapterFiles.load(dir, narrow, m));
            assertTrue(e.getMessage().contains("has shape [4, 16] but this backbone needs [4, 8]"), e.getMessage());
            var e2 = assertThrows(IOException.class, () -> AdapterFiles.load(dir, BertCheckpoint.random(
                    BertConfig.tiny(50, 16, 1, 2, 32), m, 1, DataType.FLOAT32), m));
            assertTrue(e2.getMessage().contains("'encoder.layer.1.attention.self.query.lora_A.weight' has no matching LoRA layer"),
                    e2.getMessage());
        }
    }

    @Test
    void fullFineTuneSavesAModelDirectoryThatLoadsIdentically() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), new FullFineTune.Config(), LABELS,
                    Pooling.CLS, m, 2);
            perturb(model, m);
            NDArray before = logits(model, m);
            AdapterFiles.save(model, dir, "tiny-bert");
            assertTrue(AdapterFiles.isFullModel(dir));
            var keys = SafeTensors.read(dir.resolve("model.safetensors")).keySet();
            assertTrue(keys.contains("bert.encoder.layer.0.attention.self.query.weight") && keys.contains("classifier.weight"));
            ClassificationModel loaded = AdapterFiles.load(dir, null, m);
            assertEquals(Pooling.CLS, loaded.network().pooling());
            assertEquals(0.0, TestModels.maxAbsDiff(before, logits(loaded, m)));
        }
    }

    @Test
    void mergedLoraModelEqualsTheAdapterWithin1e5() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            ClassificationModel model = ClassificationModel.create(TestModels.tiny(m, 1), LORA, LABELS, Pooling.MEAN, m, 2);
            perturb(model, m);
            NDArray unmerged = logits(model, m);
            model.method().merge();
            AdapterFiles.saveFullModel(model, dir);
            ClassificationModel merged = AdapterFiles.load(dir, null, m);
            assertFalse(merged.backbone().namedParameters().keySet().stream().anyMatch(k -> k.contains("lora")));
            double diff = TestModels.maxAbsDiff(unmerged, logits(merged, m));
            assertTrue(diff < 1e-5, "merged vs unmerged " + diff);
        }
    }
}
