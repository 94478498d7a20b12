package io.peftfoundry.engine.task.causal;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.model.gpt2.Gpt2Config;
import io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import io.peftfoundry.engine.model.llama.LlamaForCausalLM;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The causal tasks' view of a decoder model directory, whatever its architecture ({@code model_type} gpt2 or llama):
 * what its config says (context length, EOS id), loading, random initialisation, saving, and a tiny decoder of the
 * same layout to try a PEFT method on before any weights are read.
 */
public final class DecoderFiles {

    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DecoderFiles() {}

    /** The config fields the causal tasks need, and the parsed architecture config (Gpt2Config or LlamaConfig). */
    public record Info(String modelType, int maxPositions, long eosId, Object config) {}

    /** Reads {@code dir/config.json}; an encoder or unknown model_type fails naming it. */
    public static Info read(Path dir) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        String type = JSON.readTree(cfg.toFile()).path("model_type").asText("");
        return switch (type) {
            case "gpt2" -> {
                Gpt2Config c = Gpt2Config.read(cfg);
                yield new Info(type, c.nPositions(), c.eosTokenId(), c);
            }
            case "llama", "mistral", "qwen2" -> {
                LlamaConfig c = LlamaConfig.read(cfg);
                yield new Info(type, c.maxPositionEmbeddings(), c.eosTokenId(), c);
            }
            default -> throw new IOException(cfg + ": model_type '" + type + "' is not a decoder (gpt2, llama, mistral, qwen2)");
        };
    }

    public static boolean hasWeights(Path dir) {
        return io.peftfoundry.engine.io.CheckpointWeights.present(dir);
    }

    public static CausalDecoder load(Path dir, NDManager manager) throws IOException {
        return CausalDecoder.load(dir, manager);
    }

    /** As {@link #load(Path, NDManager)} with linear and embedding weights as {@code matrixType} (FLOAT16: fp16). */
    public static CausalDecoder load(Path dir, NDManager manager, ai.djl.ndarray.types.DataType matrixType)
            throws IOException {
        return CausalDecoder.load(dir, manager, matrixType);
    }

    /** Random weights (normal(0, 0.02), as transformers initialises), drawn from {@code seed}. */
    public static CausalDecoder random(Info info, NDManager manager, long seed) {
        if (info.config() instanceof LlamaConfig c) {
            return LlamaCheckpoint.random(c, manager, seed, DataType.FLOAT32);
        }
        return Gpt2Checkpoint.random((Gpt2Config) info.config(), manager, seed, DataType.FLOAT32);
    }

    /** A decoder with the same module names and head layout but tiny widths, to try a method on cheaply. */
    public static CausalDecoder probe(Info info, NDManager manager) {
        if (info.config() instanceof LlamaConfig c) {
            LlamaConfig t = c.resized(16, 4 * c.numAttentionHeads(), 8, c.numHiddenLayers(), c.numAttentionHeads(),
                    c.numKeyValueHeads(), 4, 8);
            return LlamaCheckpoint.random(t, manager, 0, DataType.FLOAT32);
        }
        Gpt2Config c = (Gpt2Config) info.config();
        Gpt2Config t = new Gpt2Config(16, 8, 2 * c.nHead(), c.nLayer(), c.nHead(), 4 * c.nHead(), c.activationFunction(),
                0f, 0f, 0f, c.layerNormEpsilon(), 15, 15);
        return Gpt2Checkpoint.random(t, manager, 0, DataType.FLOAT32);
    }

    /**
     * A fresh module tree of the same architecture and config whose parameters are the very same (frozen) tensors
     * as {@code shared}'s: a method installed on the view wraps the view's layers only, so many adapters can share
     * one loaded backbone. {@code shared} should carry no method.
     */
    public static CausalDecoder view(CausalDecoder shared) {
        CausalDecoder view = shared instanceof LlamaForCausalLM l ? new LlamaForCausalLM(l.config())
                : new Gpt2LmHeadModel(((Gpt2LmHeadModel) shared).config());
        java.util.Map<String, ai.djl.nn.Parameter> source = shared.namedParameters();
        for (java.util.Map.Entry<String, ai.djl.nn.Parameter> e : view.namedParameters().entrySet()) {
            ai.djl.nn.Parameter p = source.get(e.getKey());
            if (p == null || !p.isInitialized()) {
                throw new IllegalArgumentException("shared decoder has no value for '" + e.getKey() + "'");
            }
            e.getValue().setArray(p.getArray());
            e.getValue().freeze(true);
        }
        return view;
    }

    public static void save(CausalDecoder decoder, Path dir) throws IOException {
        decoder.save(dir);
    }

    public static long eosId(CausalDecoder decoder) {
        return decoder.eosTokenId();
    }

    /** True for GPT-2, whose projections are Conv1D (PEFT writes fan_in_fan_out: true for them). */
    public static boolean usesConv1d(CausalDecoder decoder) {
        return decoder instanceof Gpt2LmHeadModel;
    }
}
