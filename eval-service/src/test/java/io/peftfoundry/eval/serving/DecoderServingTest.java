package io.peftfoundry.eval.serving;

import ai.djl.engine.Engine;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.llama.LlamaCheckpoint;
import io.peftfoundry.engine.model.llama.LlamaConfig;
import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.task.causal.GenerationConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoder serving on real files: the demo decoder pretrained in this repository (GPT-2 layout, demo/decoder/pretrained)
 * and a tiny LLaMA, adapters saved in PEFT layout. Concurrent requests for different adapters (decoded in one batch)
 * give the tokens a fresh load of each adapter gives alone; backbones and adapters are evicted by the one budget,
 * their native memory closed, and load again.
 */
class DecoderServingTest {

    static final Path DEMO = Path.of("..", "demo", "decoder", "pretrained").toAbsolutePath().normalize();
    static final String[] PROMPTS = {"The hacker", "A program is", "In the beginning the system", "foo", "Real programmers"};

    @TempDir
    static Path tmp;
    static Path llama;
    static Path loraA;
    static Path loraB;
    static Path loraC;
    static Path prefix;

    /** A method on a view of {@code base}, its new weights randomised (LoRA's B too) so it changes outputs, saved. */
    static Path adapter(Path base, MethodConfig method, long seed, Path out) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            CausalModel model = CausalModel.create(DecoderFiles.load(base, m), method, m, seed);
            Random rnd = new Random(seed);
            model.trainableParameters().forEach((k, p) -> {
                NDArray a = p.getArray();
                float[] v = new float[(int) a.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextGaussian() * 0.2);
                }
                HfModule.assign(p, m.create(v, a.getShape()));
            });
            CausalAdapterFiles.save(model, out, base.toString());
        }
        return out;
    }

    @BeforeAll
    static void models() throws IOException {
        llama = Files.createDirectories(tmp.resolve("llama"));
        try (NDManager m = NDManager.newBaseManager()) {
            LlamaCheckpoint.save(LlamaCheckpoint.random(LlamaConfig.tiny(4096, 32, 2, 4, 2, 128, false), m, 3, DataType.FLOAT32), llama);
        }
        Files.copy(DEMO.resolve("tokenizer.json"), llama.resolve("tokenizer.json"));
        loraA = adapter(DEMO, new LoraConfig(4, 8, 0, List.of("c_attn"), false), 1, tmp.resolve("lora-a"));
        loraB = adapter(DEMO, new LoraConfig(8, 16, 0, List.of("c_attn", "c_proj"), false), 2, tmp.resolve("lora-b"));
        loraC = adapter(DEMO, new LoraConfig(2, 4, 0, List.of("c_fc"), false), 3, tmp.resolve("lora-c"));
        prefix = adapter(DEMO, new PrefixConfig(4, 16, false), 4, tmp.resolve("prefix"));
    }

    static ModelSource source() {
        return new ModelSource() {
            @Override
            public Path backbone(String model) {
                return model.equals("llama") ? llama : DEMO;
            }

            @Override
            public Path adapter(String adapterId) {
                return tmp.resolve(adapterId);
            }
        };
    }

    /** What peft-engine's Generator gives on a fresh load of the backbone (and adapter), alone. */
    static long[] alone(Path base, Path adapterDir, String prompt, int maxTokens) throws IOException {
        try (NDManager m = NDManager.newBaseManager(); CausalTokenizer tok = new CausalTokenizer(base.resolve("tokenizer.json"))) {
            CausalDecoder decoder = DecoderFiles.load(base, m);
            CausalModel model = adapterDir == null ? CausalModel.create(decoder, new io.peftfoundry.engine.method.full.FullFineTune.Config(), m, 0)
                    : CausalAdapterFiles.load(adapterDir, decoder, m);
            return model.generator(tok).generate(m, prompt, GenerationConfig.greedy(maxTokens)).tokens();
        }
    }

    static long[] served(DecoderServing serving, String model, String adapter, String prompt, int maxTokens) throws IOException {
        try (DecoderServing.Session s = serving.open(model, adapter)) {
            BatchDecoder.Row row = s.submit(s.encode(prompt), GenerationConfig.greedy(maxTokens), null);
            await(row);
            return row.tokens();
        }
    }

    static void await(BatchDecoder.Row row) {
        while (row.finishReason() == null) {
            Thread.onSpinWait();
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }
    }

    @Test
    void backbonesAndAdaptersLoadOnTheServingDevice() throws IOException {
        try (ResidentSet resident = new ResidentSet(Long.MAX_VALUE)) {
            DecoderServing serving = new DecoderServing(source(), resident, Device.cpu());
            try (DecoderServing.Session s = serving.open("demo", "lora-a")) {
                assertEquals(Device.cpu(), s.decoder().device());
                BatchDecoder.Row row = s.submit(s.encode(PROMPTS[0]), GenerationConfig.greedy(4), null);
                await(row);
                assertArrayEquals(alone(DEMO, tmp.resolve("lora-a"), PROMPTS[0], 4), row.tokens(), "it serves there");
            }
        }
        // a CPU build of libtorch cannot create arrays on GPU 0: serving told to use it fails loading the backbone,
        // so the device reaches its NDManager (DJL's default device here, the CPU, would load)
        assumeTrue(Engine.getInstance().getGpuCount() == 0, "needs a machine without a GPU that DJL sees");
        try (ResidentSet resident = new ResidentSet(Long.MAX_VALUE)) {
            DecoderServing serving = new DecoderServing(source(), resident, Device.gpu(0));
            Exception e = assertThrows(Exception.class, () -> serving.open("demo", null));
            StringBuilder chain = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                chain.append(t.getMessage()).append(" / ");
            }
            assertTrue(chain.toString().contains("CUDA"), chain.toString());
        }
    }

    @Test
    void concurrentRequestsForDifferentAdaptersEqualEachAdapterAlone() throws IOException {
        String[] adapters = {"lora-a", null, "lora-b", "prefix", "lora-c", "lora-a"};
        List<long[]> expected = new ArrayList<>();
        for (int i = 0; i < adapters.length; i++) {
            expected.add(alone(DEMO, adapters[i] == null ? null : tmp.resolve(adapters[i]), PROMPTS[i % PROMPTS.length], 12));
        }
        // the test can fail: the adapters change what the decoder says
        long[] bare = alone(DEMO, null, PROMPTS[0], 12);
        assertFalse(Arrays.equals(bare, expected.get(0)), "lora-a changes nothing");
        assertFalse(Arrays.equals(alone(DEMO, null, PROMPTS[3], 12), expected.get(3)), "prefix changes nothing");
        try (ResidentSet resident = new ResidentSet(Long.MAX_VALUE)) {
            DecoderServing serving = new DecoderServing(source(), resident);
            List<DecoderServing.Session> sessions = new ArrayList<>();
            for (String a : adapters) {
                sessions.add(serving.open("demo", a));
            }
            List<BatchDecoder.Row> rows = new ArrayList<>();
            for (int i = 0; i < adapters.length; i++) {
                DecoderServing.Session s = sessions.get(i);
                rows.add(s.submit(s.encode(PROMPTS[i % PROMPTS.length]), GenerationConfig.greedy(12), null));
            }
            rows.forEach(DecoderServingTest::await);
            for (int i = 0; i < adapters.length; i++) {
                assertArrayEquals(expected.get(i), rows.get(i).tokens(), "request " + i + " on " + adapters[i]);
            }
            sessions.forEach(DecoderServing.Session::close);
            // one backbone, four adapters
            assertEquals(5, resident.keys().size(), resident.keys().toString());
        }
    }

    @Test
    void theBudgetEvictsBackbonesAndAdaptersClosingTheirMemoryAndTheyLoadAgain() throws IOException {
        long demoBytes;
        long loraBytes;
        long loraBBytes;
        try (ResidentSet probe = new ResidentSet(Long.MAX_VALUE)) {
            DecoderServing serving = new DecoderServing(source(), probe);
            try (DecoderServing.Session s = serving.open("demo", "lora-a")) {
                demoBytes = s.decoder().bytes();
            }
            loraBytes = probe.residentBytes() - demoBytes;
            serving.open("demo", "lora-b").close();
            loraBBytes = probe.residentBytes() - demoBytes - loraBytes;
        }
        // GPT-2 demo: 4096x128 wte + 128x128 wpe + 4 blocks of (4·128² + 2·4·128² weights, biases, norms) … counted from its tensors
        assertTrue(demoBytes > 4_000_000 && demoBytes < 6_000_000, "demo decoder bytes " + demoBytes);
        // lora-a: r 4 on c_attn (128 → 384) in 4 layers: 4 · 4·(128 + 384) floats
        assertEquals(4L * 4 * (128 + 384) * 4, loraBytes);
        // lora-b: r 8 on c_attn (128 → 384) and both c_proj: attn.c_proj (128 → 128), mlp.c_proj (512 → 128)
        assertEquals(4L * 8 * ((128 + 384) + (128 + 128) + (512 + 128)) * 4, loraBBytes);
        long[] demoAlone = alone(DEMO, null, PROMPTS[1], 10);
        long[] llamaAlone = alone(llama, null, PROMPTS[1], 10);
        long[] aAlone = alone(DEMO, loraA, PROMPTS[1], 10);
        long[] bAlone = alone(DEMO, loraB, PROMPTS[1], 10);
        // room for the demo decoder and one adapter, not for a second backbone nor a second adapter
        try (ResidentSet resident = new ResidentSet(demoBytes + loraBBytes)) {
            DecoderServing serving = new DecoderServing(source(), resident);
            ServedDecoder first;
            try (DecoderServing.Session s = serving.open("demo", null)) {
                first = s.decoder();
            }
            assertArrayEquals(demoAlone, served(serving, "demo", null, PROMPTS[1], 10));
            assertArrayEquals(aAlone, served(serving, "demo", "lora-a", PROMPTS[1], 10));
            // lora-b does not fit beside lora-a: lora-a goes, the backbone (lora-b's parent) stays
            assertArrayEquals(bAlone, served(serving, "demo", "lora-b", PROMPTS[1], 10));
            assertEquals(1, resident.keys().stream().filter(k -> k.contains("|")).count(), resident.keys().toString());
            assertTrue(resident.keys().stream().anyMatch(k -> k.endsWith("lora-b")), resident.keys().toString());
            assertTrue(first.isOpen());
            // the LLaMA needs the room: lora-b and then the demo decoder are closed, native memory released
            assertArrayEquals(llamaAlone, served(serving, "llama", null, PROMPTS[1], 10));
            assertFalse(first.isOpen(), "the evicted decoder's NDManager is closed");
            assertEquals(List.of("decoder:" + llama), resident.keys());
            // and everything loads again, with the same answers
            assertArrayEquals(aAlone, served(serving, "demo", "lora-a", PROMPTS[1], 10));
            try (DecoderServing.Session s = serving.open("demo", null)) {
                assertNotSame(first, s.decoder());
                assertTrue(s.decoder().isOpen());
            }
            assertTrue(resident.evictions() >= 4, "evictions " + resident.evictions());
        }
    }

    @Test
    void aLeasedBackboneIsNotEvictedWhileItServes() throws IOException {
        try (ResidentSet resident = new ResidentSet(1)) {
            DecoderServing serving = new DecoderServing(source(), resident);
            try (DecoderServing.Session demo = serving.open("demo", "lora-a")) {
                try (DecoderServing.Session other = serving.open("llama", null)) {
                    assertTrue(demo.decoder().isOpen());
                    BatchDecoder.Row row = demo.submit(demo.encode(PROMPTS[0]), GenerationConfig.greedy(5), null);
                    await(row);
                    assertEquals(5, row.tokens().length);
                }
                assertTrue(demo.decoder().isOpen(), "still leased");
            }
            // nothing leased, budget of one byte: all evicted
            assertEquals(List.of(), resident.keys());
        }
    }
}
