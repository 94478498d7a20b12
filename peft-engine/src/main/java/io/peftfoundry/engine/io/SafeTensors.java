package io.peftfoundry.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON
 * header {@code {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {..}}}, then the
 * little-endian tensor bytes. Malformed files fail with a {@link SafeTensorsException} that names
 * the file, the tensor and what is wrong.
 */
public final class SafeTensors {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The format caps the header at 100 MB; anything larger is a corrupt length field. */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private SafeTensors() {}

    /** Result of reading a file: tensors in file order plus the free-form string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    public static Map<String, Tensor> read(Path file) throws IOException {
        return readWithMetadata(file).tensors();
    }

    public static Contents readWithMetadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(file + ": file is " + size + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new SafeTensorsException(file + ": bad header length " + headerLen + " (file size " + size + ")");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new SafeTensorsException(file + ": header is not valid JSON: " + e.getMessage());
            }
            if (header == null || !header.isObject()) {
                throw new SafeTensorsException(file + ": header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = header.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode info = e.getValue();
                if ("__metadata__".equals(name)) {
                    info.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                String where = file + ": tensor '" + name + "'";
                JsonNode dt = info.get("dtype");
                JsonNode sh = info.get("shape");
                JsonNode off = info.get("data_offsets");
                if (dt == null || sh == null || off == null || !sh.isArray() || !off.isArray() || off.size() != 2) {
                    throw new SafeTensorsException(where + ": needs dtype, shape and data_offsets [begin, end]");
                }
                DType dtype = DType.parse(dt.asText());
                if (dtype == null) {
                    throw new SafeTensorsException(where + ": dtype unknown '" + dt.asText() + "' (supported: F32, F64, F16, BF16, I64, I32)");
                }
                long[] shape = new long[sh.size()];
                long count = 1;
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = sh.get(i).asLong(-1);
                    if (shape[i] < 0) {
                        throw new SafeTensorsException(where + ": negative or non-numeric dimension in shape " + sh);
                    }
                    count *= shape[i];
                }
                long begin = off.get(0).asLong(-1);
                long end = off.get(1).asLong(-1);
                if (begin < 0 || end < begin || end > dataLen) {
                    throw new SafeTensorsException(where + ": data_offsets [" + begin + ", " + end
                            + "] out of range (data section is " + dataLen + " bytes)");
                }
                if (end - begin != count * dtype.bytes) {
                    throw new SafeTensorsException(where + ": data_offsets span " + (end - begin) + " bytes but shape "
                            + sh + " of " + dtype + " needs " + count * dtype.bytes);
                }
                ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(end - begin));
                readFully(ch, data, dataStart + begin);
                tensors.put(name, new Tensor(dtype, shape, data.array()));
            }
            return new Contents(tensors, metadata);
        }
    }

    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", t.dtype().name());
            var shape = info.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            var offs = info.putArray("data_offsets");
            offs.add(offset);
            offs.add(offset + t.data().length);
            offset += t.data().length;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // keep the data section 8-byte aligned, padded with spaces
        byte[] headerBytes = new byte[padded];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            headerBytes[i] = ' ';
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (Tensor t : tensors.values()) {
                out.write(t.data());
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new SafeTensorsException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }
}
