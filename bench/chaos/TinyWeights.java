import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;

import java.nio.file.Path;

/**
 * Writes a tiny random BERT (hidden 32, 2 layers, 2 heads, intermediate 64) in Hugging Face layout —
 * config.json + model.safetensors — for bench/chaos. Run with the single-file source launcher:
 * java -cp 'peft-engine/target/peft-engine.jar:peft-engine/target/lib/*' TinyWeights.java DIR VOCAB SEED
 */
public class TinyWeights {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int vocab = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        BertConfig config = BertConfig.tiny(vocab, 32, 2, 2, 64);
        try (NDManager m = NDManager.newBaseManager()) {
            BertCheckpoint.save(BertCheckpoint.random(config, m, seed, DataType.FLOAT32), dir);
        }
    }
}
