package io.peftfoundry.engine.io;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Fuzzing (jqwik) of the safetensors reader: any file either reads into tensors whose data is exactly
 * product(shape) × dtype size bytes (the product taken without overflow), or is refused with a
 * {@link SafeTensorsException} saying why — never another exception, never a tensor whose shape and bytes disagree.
 */
class SafeTensorsFuzzTest {

    @Property
    void anyFileReadsIntoConsistentTensorsOrIsRefused(@ForAll("files") byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzz-", ".safetensors");
        try {
            Files.write(file, bytes);
            Map<String, Tensor> tensors;
            try {
                tensors = SafeTensors.read(file);
            } catch (SafeTensorsException refused) {
                assertFalse(refused.getMessage().isBlank(), "a refusal says why");
                return;
            }
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = e.getValue();
                BigInteger elements = BigInteger.ONE;
                for (long d : t.shape()) {
                    elements = elements.multiply(BigInteger.valueOf(d));
                }
                assertEquals(elements.multiply(BigInteger.valueOf(t.dtype().bytes)), BigInteger.valueOf(t.data().length),
                        "tensor " + e.getKey() + " of shape " + Arrays.toString(t.shape()) + " holds as many bytes as its shape needs");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Files written by the format's rules from random tensors, then damaged; plus headers with hostile numbers. */
    @Provide
    Arbitrary<byte[]> files() {
        Arbitrary<Long> dim = Arbitraries.oneOf(Arbitraries.longs().between(0, 6),
                Arbitraries.of(-1L, 1L << 31, 1L << 32, 1L << 62, Long.MAX_VALUE, 3_037_000_500L));
        Arbitrary<String> dtype = Arbitraries.of("F32", "F64", "F16", "BF16", "I64", "I32", "U8", "", "f32");
        Arbitrary<Tuple.Tuple3<String, List<Long>, String>> tensor = Combinators.combine(
                Arbitraries.of("a", "b", "w.weight", "__metadata__", ""), dim.list().ofMaxSize(4), dtype).as(Tuple::of);
        Arbitrary<byte[]> wellFormed = Combinators.combine(tensor.list().ofMaxSize(4),
                Arbitraries.integers().between(-64, 64)).as(SafeTensorsFuzzTest::file);
        Arbitrary<byte[]> damaged = Combinators.combine(wellFormed, Arbitraries.integers().between(0, 1000),
                Arbitraries.bytes(), Arbitraries.of(true, false)).as((f, at, b, truncate) -> {
                    int i = at % Math.max(1, f.length);
                    if (truncate) {
                        return Arrays.copyOf(f, i);
                    }
                    byte[] copy = f.clone();
                    if (copy.length > 0) {
                        copy[i] = b;
                    }
                    return copy;
                });
        Arbitrary<byte[]> rawHeader = Arbitraries.strings().withChars("{}[]\":,0123456789-eE.abdFIt_ ").ofMaxLength(120)
                .map(h -> withHeader(h, new byte[16]));
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(100);
        return Arbitraries.oneOf(wellFormed, damaged, damaged, rawHeader, raw);
    }

    /**
     * A file whose header lists the tensors with consecutive data_offsets computed from their shapes (in long
     * arithmetic, as a careless writer would), and whose data section is that long plus {@code slack} bytes.
     */
    private static byte[] file(List<Tuple.Tuple3<String, List<Long>, String>> tensors, int slack) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tuple.Tuple3<String, List<Long>, String> t = tensors.get(i);
            long size = switch (t.get3()) {
                case "F64", "I64" -> 8;
                case "F16", "BF16" -> 2;
                default -> 4;
            };
            for (long d : t.get2()) {
                size *= d;
            }
            long end = offset + size;
            header.append(i > 0 ? "," : "").append('"').append(t.get1()).append("\":{\"dtype\":\"").append(t.get3())
                    .append("\",\"shape\":").append(t.get2()).append(",\"data_offsets\":[").append(offset).append(',')
                    .append(end).append("]}");
            offset = end;
        }
        long dataLen = Math.max(0, Math.max(0, Math.min(4096, offset)) + slack); // offset may have wrapped negative
        return withHeader(header.append('}').toString(), new byte[(int) dataLen]);
    }

    private static byte[] withHeader(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        return buf.array();
    }
}
