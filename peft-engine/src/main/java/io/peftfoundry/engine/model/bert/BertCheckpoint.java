package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.HfCheckpoints;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peftfoundry.engine.io.CheckpointWeights;
import io.peftfoundry.engine.io.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Loads and saves a {@link BertModel} as a Hugging Face layout directory
 * ({@code config.json} + {@code model.safetensors}). Every backbone parameter starts frozen.
 */
public final class BertCheckpoint {

    public static final String CONFIG = HfCheckpoints.CONFIG;
    public static final String WEIGHTS = HfCheckpoints.WEIGHTS;

    private BertCheckpoint() {}

    /** Loads {@code dir}; keys may carry a {@code bert.} prefix (as BertFor* checkpoints do). */
    public static BertModel load(Path dir, NDManager manager) throws IOException {
        return load(dir, manager, DataType.FLOAT32);
    }

    /** Loads {@code dir} with linear and embedding weights as {@code matrixType} (FLOAT16: {@code precision: fp16}). */
    public static BertModel load(Path dir, NDManager manager, DataType matrixType) throws IOException {
        BertConfig config = BertConfig.read(dir.resolve(CONFIG));
        BertModel model = new BertModel(config);
        try (CheckpointWeights weights = HfCheckpoints.requireLayout(dir, "; try `import`")) {
            HfCheckpoints.assignFrozen(model.namedParameters(), weights,
                    name -> weights.contains("bert." + name) && !weights.contains(name) ? "bert." + name : name, name -> expectedShape(config, name),
                    HfCheckpoints.Layout.SAME, manager, matrixType);
        }
        return model;
    }

    /** A randomly initialised encoder (normal(0, 0.02) weights, zero biases, unit LayerNorm), frozen. */
    public static BertModel random(BertConfig config, NDManager manager, long seed, DataType dtype) {
        BertModel model = new BertModel(config);
        HfCheckpoints.randomFrozen(model.namedParameters(), name -> expectedShape(config, name),
                name -> name.endsWith("LayerNorm.weight"), manager, seed, dtype);
        return model;
    }

    /** Shape of a backbone parameter, derived from the config; null for names outside the backbone. */
    public static long[] expectedShape(BertConfig c, String name) {
        long h = c.hiddenSize();
        if (name.equals("embeddings.word_embeddings.weight")) {
            return new long[] {c.vocabSize(), h};
        }
        if (name.equals("embeddings.position_embeddings.weight")) {
            return new long[] {c.maxPositionEmbeddings(), h};
        }
        if (name.equals("embeddings.token_type_embeddings.weight")) {
            return new long[] {c.typeVocabSize(), h};
        }
        if (name.endsWith("LayerNorm.weight") || name.endsWith("LayerNorm.bias")) {
            return new long[] {h};
        }
        if (name.endsWith("intermediate.dense.weight")) {
            return new long[] {c.intermediateSize(), h};
        }
        if (name.endsWith("intermediate.dense.bias")) {
            return new long[] {c.intermediateSize()};
        }
        if (name.endsWith(".output.dense.weight") && !name.contains("attention")) {
            return new long[] {h, c.intermediateSize()};
        }
        if (name.endsWith(".weight")) {
            return new long[] {h, h};
        }
        if (name.endsWith(".bias")) {
            return new long[] {h};
        }
        return null;
    }

    /** The backbone parameter names of a plain encoder with this config. */
    public static Set<String> backboneNames(BertConfig config) {
        return new BertModel(config).namedParameters().keySet();
    }

    /**
     * Backbone tensors by HF name. A wrapped layer's {@code base_layer} counts as the layer itself
     * (PEFT's naming); method parameters are left out.
     */
    public static Map<String, Tensor> backboneTensors(BertModel model) {
        return HfCheckpoints.backboneTensors(model.namedParameters(), backboneNames(model.config()),
                HfCheckpoints.Layout.SAME);
    }

    public static void save(BertModel model, Path dir) throws IOException {
        HfCheckpoints.save(dir, model.config()::write, backboneTensors(model));
    }
}
