package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14 finding 5: a forged shape cannot overflow the element count into a small, "consistent" size. */
class SafetensorsHeaderTest {

    private static SafetensorsHeader read(String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        return SafetensorsHeader.read(new ByteArrayInputStream(buf.array()), buf.capacity(), new ObjectMapper());
    }

    @Test
    void aShapeWhoseProductOverflowsIsRefused() {
        // 2^32 · 2^32 = 2^64 wraps to 0, which would "match" an empty data span
        IOException e = assertThrows(IOException.class, () -> read(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
    }

    @Test
    void aSpanThatDoesNotMatchTheShapeIsRefused() {
        IOException e = assertThrows(IOException.class, () -> read(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 8));
        assertTrue(e.getMessage().contains("spanning 8 bytes"), e.getMessage());
    }

    @Test
    void aConsistentHeaderReads() throws IOException {
        SafetensorsHeader h = read("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24);
        assertEquals(java.util.List.of(2L, 3L), h.tensors().get("w").shape());
    }
}
