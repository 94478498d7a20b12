package io.peftfoundry.engine.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private SafeTensors() {}

    /** Result of reading a file: tensors in file order plus the free-form string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    public static Map<String, Tensor> read(Path file) throws IOException {
        return readWithMetadata(file).tensors();
    }

    /** Reads every tensor into the Java heap: for small files (adapters, optimizer state); backbones are streamed
     * tensor by tensor through {@link SafeTensorsFile} instead. */
    public static Contents readWithMetadata(Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : f.entries().keySet()) {
                tensors.put(name, f.read(name));
            }
            return new Contents(tensors, f.metadata());
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
}
