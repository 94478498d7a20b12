package io.peftfoundry.engine.importer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The imported MiniLM, run by our DJL encoder, reproduces onnxruntime on the jar's own ONNX file. */
class EncoderImporterTest {

    @TempDir
    Path dir;

    @Test
    void importedMiniLmMatchesOnnxRuntimeOnRealSentences() throws Exception {
        PretrainedEncoder enc = PretrainedEncoder.ALL_MINILM_L6_V2;
        BertConfig cfg = EncoderImporter.importTo(enc, dir, Progress.NONE);
        assertEquals(6, cfg.numHiddenLayers());
        assertEquals(384, cfg.hiddenSize());
        assertEquals(1536, cfg.intermediateSize());
        assertEquals(30522, cfg.vocabSize());
        assertTrue(Files.readString(dir.resolve("LICENSE")).contains("Apache"));

        List<String> sentences = List.of(
                "The quick brown fox jumps over the lazy dog.",
                "A dog is running through the park.",
                "Parameter-efficient fine-tuning freezes the backbone and trains small adapters.",
                "Hi!");
        try (NDManager m = NDManager.newBaseManager();
                TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 128, 0)) {
            BertModel model = BertCheckpoint.load(dir, m);
            TextTokenizer.Batch batch = tok.encode(sentences, null);
            NDArray ours = model.forward(new ParameterStore(m, false), batch.toNDList(m), false).head();
            float[][][] ref = onnxHiddenStates(EncoderImporter.readOnnx(enc, Progress.NONE), batch);
            double maxDiff = 0;
            for (int b = 0; b < batch.size(); b++) {
                for (int t = 0; t < batch.length(); t++) {
                    if (batch.mask()[b][t] == 0) {
                        continue; // padded positions are never read downstream
                    }
                    float[] row = ours.get(b, t).toFloatArray();
                    for (int h = 0; h < row.length; h++) {
                        maxDiff = Math.max(maxDiff, Math.abs(row[h] - ref[b][t][h]));
                    }
                }
            }
            // float32 with different kernels and summation orders: FACTS.md measured 3.3e-5 on MiniLM
            assertTrue(maxDiff < 1e-4, "max |DJL - onnxruntime| = " + maxDiff);
        }
    }

    private static float[][][] onnxHiddenStates(byte[] onnx, TextTokenizer.Batch batch) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(onnx, opts)) {
                Map<String, OnnxTensor> in = new HashMap<>();
                for (String name : s.getInputNames()) {
                    long[][] v = switch (name) {
                        case "input_ids" -> batch.ids();
                        case "attention_mask" -> batch.mask();
                        case "token_type_ids" -> batch.typeIds();
                        default -> throw new IllegalStateException("unexpected ONNX input " + name);
                    };
                    in.put(name, OnnxTensor.createTensor(env, v));
                }
                try (OrtSession.Result r = s.run(in)) {
                    return (float[][][]) r.get(0).getValue();
                } finally {
                    in.values().forEach(OnnxTensor::close);
                }
            }
        }
    }
}
