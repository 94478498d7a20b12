package io.peftfoundry.engine.model.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.peftfoundry.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Gpt2ModelTest {

    static final Gpt2Config TINY = Gpt2Config.tiny(40, 16, 2, 2, 32);

    @TempDir
    Path dir;

    static NDArray ids(NDManager m, int batch, int len, long seed) {
        Random r = new Random(seed);
        long[] v = new long[batch * len];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(TINY.vocabSize());
        }
        return m.create(v, new Shape(batch, len)).duplicate();
    }

    static NDArray logits(Gpt2LmHeadModel model, NDManager m, NDArray ids, NDArray mask) {
        return model.forward(new ParameterStore(m, false), new NDList(ids, mask), false).head();
    }

    @Test
    void parameterNamesAreGpt2LmHeadModelKeys() {
        try (NDManager m = NDManager.newBaseManager()) {
            var names = Gpt2Checkpoint.random(TINY, m, 1, DataType.FLOAT32).namedParameters().keySet();
            assertTrue(names.containsAll(List.of("transformer.wte.weight", "transformer.wpe.weight",
                    "transformer.h.0.ln_1.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.bias",
                    "transformer.h.1.ln_2.bias", "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight",
                    "transformer.ln_f.weight")), names.toString());
            // 2 embeddings + 12 per block (4 linears × 2 + 2 LayerNorms × 2) + ln_f × 2; lm_head is tied
            assertEquals(2 + 12 * 2 + 2, names.size());
        }
    }

    @Test
    void saveThenLoadGivesIdenticalLogits() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel a = Gpt2Checkpoint.random(TINY, m, 2, DataType.FLOAT32);
            Gpt2Checkpoint.save(a, dir);
            var saved = io.peftfoundry.engine.io.SafeTensors.read(dir.resolve("model.safetensors"));
            // HF Conv1D layout (in, out)
            assertEquals(List.of(16L, 48L), java.util.Arrays.stream(saved.get("transformer.h.0.attn.c_attn.weight").shape()).boxed().toList());
            Gpt2LmHeadModel b = Gpt2Checkpoint.load(dir, m);
            NDArray x = ids(m, 2, 9, 3);
            NDArray ya = logits(a, m, x, null);
            assertEquals(new Shape(2, 9, 40), ya.getShape());
            assertEquals(0.0, TestModels.maxAbsDiff(ya, logits(b, m, x, null)));
        }
    }

    @Test
    void laterTokensDoNotChangeEarlierLogits() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(TINY, m, 4, DataType.FLOAT32);
            long[] a = ids(m, 1, 8, 5).toLongArray();
            long[] b = a.clone();
            b[5] = (b[5] + 1) % TINY.vocabSize();
            b[7] = (b[7] + 3) % TINY.vocabSize();
            NDArray la = logits(model, m, m.create(a, new Shape(1, 8)), null);
            NDArray lb = logits(model, m, m.create(b, new Shape(1, 8)), null);
            assertEquals(0.0, TestModels.maxAbsDiff(la.get(":, 0:5, :"), lb.get(":, 0:5, :")), 1e-6);
            assertTrue(TestModels.maxAbsDiff(la.get(":, 5:, :"), lb.get(":, 5:, :")) > 1e-4);
        }
    }

    @Test
    void rightPaddingDoesNotChangeRealTokens() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(TINY, m, 4, DataType.FLOAT32);
            NDArray x = ids(m, 1, 6, 7);
            NDArray alone = logits(model, m, x, null);
            NDArray padded = m.zeros(new Shape(1, 4), DataType.INT64).add(3);
            NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, new Shape(1, 10));
            NDArray both = logits(model, m, x.concat(padded, 1), mask);
            assertEquals(0.0, TestModels.maxAbsDiff(alone, both.get(":, 0:6, :")), 1e-5);
        }
    }

    @Test
    void keyValueCacheGivesTheLogitsOfTheFullSequence() {
        try (NDManager m = NDManager.newBaseManager()) {
            Gpt2LmHeadModel model = Gpt2Checkpoint.random(TINY, m, 6, DataType.FLOAT32);
            NDArray x = ids(m, 2, 10, 8);
            NDArray full = logits(model, m, x, null);
            var ps = new ParameterStore(m, false);
            // 6 tokens at once, then 1, then 3, each with the cache of the earlier ones
            NDList r = model.forward(ps, new NDList(x.get(":, 0:6"), null), false);
            NDArray first = r.get(0);
            NDList in = new NDList(x.get(":, 6:7"), null);
            in.addAll(r.subList(1, r.size()));
            r = model.forward(ps, in, false);
            NDArray second = r.get(0);
            assertEquals(new Shape(2, 2, 7, 8), r.get(1).getShape());
            in = new NDList(x.get(":, 7:10"), null);
            in.addAll(r.subList(1, r.size()));
            NDArray third = model.forward(ps, in, false).get(0);
            NDArray stepped = first.concat(second, 1).concat(third, 1);
            assertEquals(0.0, TestModels.maxAbsDiff(full, stepped), 1e-5);
        }
    }
}
