import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import io.peftfoundry.engine.model.llama.LlamaForCausalLM;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a random LLaMA-family decoder in Hugging Face layout (config.json + model.safetensors, float32) from a
 * config.json: {@code RandomLlama CONFIG_JSON OUT_DIR}. The engine's own random initialiser (normal, std 0.02).
 */
public final class RandomLlama {

    public static void main(String[] args) throws Exception {
        LlamaConfig config = LlamaConfig.read(Path.of(args[0]));
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaForCausalLM model = LlamaCheckpoint.random(config, m, 7, DataType.FLOAT32);
            LlamaCheckpoint.save(model, out);
        }
    }
}
