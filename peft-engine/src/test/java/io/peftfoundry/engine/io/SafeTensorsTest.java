package io.peftfoundry.engine.io;

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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    @Test
    void roundTripKeepsNamesShapesAndBytes() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("a.weight", Tensor.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        in.put("ids", Tensor.ofLongs(new long[] {3}, new long[] {7, -1, Long.MAX_VALUE}));
        in.put("scalar", Tensor.ofFloats(new long[] {}, new float[] {0.25f}));
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, in, Map.of("format", "pt"));
        SafeTensors.Contents out = SafeTensors.readWithMetadata(f);
        assertEquals(in, out.tensors());
        assertEquals("pt", out.metadata().get("format"));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6.5f}, out.tensors().get("a.weight").toFloats());
        // header length field + header is a multiple of 8, so the data section is aligned
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getLong(0) % 8);
    }

    @Test
    void halfAndBfloat16AreWidenedToFloat32() throws IOException {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16 is the top half of a float32: 1.0 = 0x3F80, 3.0 = 0x4040
        Path f = write("{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]}}",
                new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0, 0x00, 0x38, (byte) 0x80, 0x3F, 0x40, 0x40});
        Map<String, Tensor> t = SafeTensors.read(f);
        assertArrayEquals(new float[] {1f, -2f, 0.5f}, t.get("h").toFloats());
        assertArrayEquals(new float[] {1f, 3f}, t.get("b").toFloats());
    }

    @Test
    void badHeaderLengthIsNamed() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1_000_000);
        Files.write(f, b.array());
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("bad header length 1000000"), e.getMessage());
    }

    @Test
    void offsetsOutOfRangeNameTheTensor() throws IOException {
        Path f = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void unknownDtypeIsNamed() throws IOException {
        Path f = write("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("dtype unknown 'F8_E4M3'"), e.getMessage());
    }

    @Test
    void sizeDisagreeingWithShapeIsNamed() throws IOException {
        Path f = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("needs 12"), e.getMessage());
    }

    private Path write(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(f, b.array());
        return f;
    }
}
