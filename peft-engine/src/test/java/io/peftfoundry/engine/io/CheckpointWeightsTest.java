package io.peftfoundry.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streaming tensors out of safetensors files (single and sharded) into NDArrays, and the hostile-header checks. */
class CheckpointWeightsTest {

    @TempDir
    Path dir;

    /** 1,001 values per dtype, streamed 64 bytes at a time: chunk edges fall inside the tensor, and the last is short. */
    @Test
    void streamedTensorsEqualTheHeapDecodeAcrossChunkEdges() throws IOException {
        Random rnd = new Random(5);
        float[] v = new float[1001];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian() * 3;
        }
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("f32", Tensor.ofFloats(new long[] {7, 143}, v));
        in.put("bf16", narrow(DType.BF16, v));
        in.put("f16", narrow(DType.F16, v));
        in.put("ids", Tensor.ofLongs(new long[] {3}, new long[] {4, -2, 1L << 40}));
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, in);
        try (SafeTensorsFile file = SafeTensorsFile.open(f); NDManager m = NDManager.newBaseManager()) {
            for (String name : new String[] {"f32", "bf16", "f16"}) {
                NDArray a = file.toNDArray(name, m, DataType.FLOAT32, 64);
                assertEquals(DataType.FLOAT32, a.getDataType());
                assertEquals(in.get(name).shape().length, a.getShape().dimension());
                assertArrayEquals(in.get(name).toFloats(), a.toFloatArray(), name);
            }
            // null keeps the stored type, except BF16 (DJL cannot hold it: widened to float32)
            assertEquals(DataType.FLOAT16, file.toNDArray("f16", m, null, 64).getDataType());
            assertEquals(DataType.FLOAT32, file.toNDArray("bf16", m, null, 64).getDataType());
            assertArrayEquals(new long[] {4, -2, 1L << 40}, file.toNDArray("ids", m, DataType.FLOAT32, 16).toLongArray());
        }
    }

    /**
     * FLOAT16 requested, 64 bytes per chunk: bf16 values in fp16's normal range arrive exactly (8 significant bits fit
     * in 11); a value above 65504 in the last chunk sends the whole tensor back to FLOAT32, exact as well.
     */
    @Test
    void float16RequestConvertsChunkByChunkAndFallsBackToFloat32BeyondItsRange() throws IOException {
        Random rnd = new Random(6);
        float[] v = new float[301];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rnd.nextBoolean() ? 1 : -1) * Math.exp(rnd.nextDouble() * 20 - 9)); // 1.2e-4 .. 8.1e4
            v[i] = Math.min(Math.abs(v[i]), 60000f) * Math.signum(v[i]);
        }
        float[] big = v.clone();
        big[300] = 70000f;
        Path f = dir.resolve("h.safetensors");
        SafeTensors.write(f, Map.of("fits", narrow(DType.BF16, v, 301), "big", narrow(DType.BF16, big, 301)));
        try (SafeTensorsFile file = SafeTensorsFile.open(f); NDManager m = NDManager.newBaseManager()) {
            float[] expected = narrow(DType.BF16, v, 301).toFloats();
            NDArray half = file.toNDArray("fits", m, DataType.FLOAT16, 64);
            assertEquals(DataType.FLOAT16, half.getDataType());
            assertArrayEquals(expected, half.toType(DataType.FLOAT32, false).toFloatArray());
            NDArray wide = file.toNDArray("big", m, DataType.FLOAT16, 64);
            assertEquals(DataType.FLOAT32, wide.getDataType());
            assertArrayEquals(narrow(DType.BF16, big, 301).toFloats(), wide.toFloatArray());
        }
    }

    /** A shape whose byte count wraps around 2^64 to the declared span must be refused, not multiplied blindly. */
    @Test
    void shapeWhoseProductOverflowsIsRefused() throws IOException {
        // 2^32 * 2^32 * 4 bytes wraps to 0 in 64-bit arithmetic, matching data_offsets [0, 0]
        Path f = raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", new byte[0]);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensorsFile.open(f));
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("overflows"), e.getMessage());
    }

    @Test
    void shardedIndexMapsEachTensorToItsShard() throws IOException {
        SafeTensors.write(dir.resolve("model-00001-of-00002.safetensors"),
                Map.of("a", Tensor.ofFloats(new long[] {2}, new float[] {1, 2})));
        SafeTensors.write(dir.resolve("model-00002-of-00002.safetensors"),
                Map.of("b", Tensor.ofFloats(new long[] {1}, new float[] {3})));
        index("{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\"}}");
        try (CheckpointWeights w = CheckpointWeights.open(dir); NDManager m = NDManager.newBaseManager()) {
            assertEquals(2, w.shardCount());
            assertEquals(java.util.Set.of("a", "b"), w.names());
            assertArrayEquals(new float[] {3}, w.toNDArray("b", m, DataType.FLOAT32).toFloatArray());
            assertEquals(dir.resolve("model-00001-of-00002.safetensors"), w.fileOf("a"));
        }
    }

    @Test
    void shardNamesOutsideTheDirectoryAreRefused() throws IOException {
        index("{\"weight_map\":{\"a\":\"../elsewhere.safetensors\"}}");
        var e = assertThrows(IOException.class, () -> CheckpointWeights.open(dir));
        assertTrue(e.getMessage().contains("weight_map['a']") && e.getMessage().contains("not a .safetensors file name"),
                e.getMessage());
    }

    @Test
    void indexNamingATensorItsShardLacksIsRefused() throws IOException {
        SafeTensors.write(dir.resolve("s1.safetensors"), Map.of("a", Tensor.ofFloats(new long[] {1}, new float[] {1})));
        index("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
        var e = assertThrows(IOException.class, () -> CheckpointWeights.open(dir));
        assertTrue(e.getMessage().contains("tensor 'b'") && e.getMessage().contains("s1.safetensors"), e.getMessage());
    }

    @Test
    void missingShardIsNamed() throws IOException {
        index("{\"weight_map\":{\"a\":\"gone.safetensors\"}}");
        var e = assertThrows(IOException.class, () -> CheckpointWeights.open(dir));
        assertTrue(e.getMessage().contains("gone.safetensors") && e.getMessage().contains("not a file"), e.getMessage());
    }

    private void index(String json) throws IOException {
        Files.writeString(dir.resolve(CheckpointWeights.INDEX), json);
    }

    /**
     * 16-bit values: BF16 = the top half of each float32; F16 = bit patterns with a normal exponent (1..30) drawn from
     * the values' bits, decoded by the heap reader ({@link Tensor#toFloats}) for the comparison.
     */
    private static Tensor narrow(DType type, float[] v) {
        return narrow(type, v, 1001);
    }

    private static Tensor narrow(DType type, float[] v, long n) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            int bits = Float.floatToIntBits(x);
            short half = type == DType.BF16 ? (short) (bits >>> 16)
                    : (short) ((bits >>> 16 & 0x8000) | ((1 + Math.floorMod(bits >>> 13, 30)) << 10) | (bits & 0x3ff));
            b.putShort(half);
        }
        return new Tensor(type, new long[] {n}, b.array());
    }

    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve("raw.safetensors");
        Files.write(f, b.array());
        return f;
    }
}
