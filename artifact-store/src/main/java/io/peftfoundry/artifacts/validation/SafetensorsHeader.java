package io.peftfoundry.artifacts.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a safetensors file: 8 bytes little-endian unsigned header length N, then N bytes
 * of JSON mapping tensor name → {dtype, shape, data_offsets}; {@code __metadata__} holds strings.
 * Only the header is read, never the tensor data.
 */
public record SafetensorsHeader(Map<String, Tensor> tensors, Map<String, String> metadata) {

    /** Refuse headers beyond this (the format's reference implementation uses the same order of magnitude). */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** Bytes per element of the dtypes whose spans are checked against their shapes. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.of("F64", 8, "F32", 4, "F16", 2, "BF16", 2,
            "I64", 8, "I32", 4, "I16", 2, "I8", 1, "U8", 1, "BOOL", 1);

    public record Tensor(String name, String dtype, List<Long> shape, long begin, long end) {
    }

    public static SafetensorsHeader read(InputStream in, long fileSize, ObjectMapper mapper) throws IOException {
        byte[] len = in.readNBytes(8);
        if (len.length < 8) {
            throw new IOException("shorter than the 8-byte header length");
        }
        long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 0 || n > MAX_HEADER_BYTES || (fileSize >= 0 && n > fileSize - 8)) {
            throw new IOException("header length " + Long.toUnsignedString(n) + " is not plausible");
        }
        byte[] json = in.readNBytes((int) n);
        if (json.length != n) {
            throw new IOException("truncated header");
        }
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (IOException e) {
            throw new IOException("header is not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IOException("header is not a JSON object");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        long dataSize = fileSize >= 0 ? fileSize - 8 - n : Long.MAX_VALUE;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if ("__metadata__".equals(e.getKey())) {
                e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode t = e.getValue();
            JsonNode offsets = t.path("data_offsets");
            if (!t.path("dtype").isTextual() || !t.path("shape").isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new IOException("tensor '" + e.getKey() + "' lacks dtype, shape or data_offsets");
            }
            List<Long> shape = new ArrayList<>();
            long elements = 1;
            for (JsonNode d : t.path("shape")) {
                if (!d.canConvertToLong() || d.asLong() < 0) {
                    throw new IOException("tensor '" + e.getKey() + "' has a dimension that is not a count: " + d);
                }
                shape.add(d.asLong());
                try {
                    elements = Math.multiplyExact(elements, d.asLong()); // a forged shape must not wrap to a small count
                } catch (ArithmeticException overflow) {
                    throw new IOException("tensor '" + e.getKey() + "' has shape " + t.path("shape")
                            + " whose element count overflows 64 bits");
                }
            }
            long begin = offsets.get(0).asLong();
            long end = offsets.get(1).asLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw new IOException("tensor '" + e.getKey() + "' has data offsets outside the file");
            }
            Integer width = DTYPE_BYTES.get(t.get("dtype").asText());
            if (width != null && (elements > Long.MAX_VALUE / width || end - begin != elements * width)) {
                throw new IOException("tensor '" + e.getKey() + "' has shape " + t.path("shape") + " of "
                        + t.get("dtype").asText() + " but data offsets spanning " + (end - begin) + " bytes");
            }
            tensors.put(e.getKey(), new Tensor(e.getKey(), t.get("dtype").asText(), List.copyOf(shape), begin, end));
        }
        return new SafetensorsHeader(tensors, metadata);
    }
}
