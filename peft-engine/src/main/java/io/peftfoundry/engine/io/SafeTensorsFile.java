package io.peftfoundry.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file opened for reading tensor by tensor: the header is parsed and checked when opening, tensor
 * bytes are read only when asked for. {@link #toNDArray} streams a tensor through one bounded direct buffer into
 * native memory, so loading a multi-GB checkpoint never holds a whole tensor (let alone a file) in the Java heap.
 * Malformed files fail with a {@link SafeTensorsException} naming the file, the tensor and what is wrong.
 */
public final class SafeTensorsFile implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The format caps the header at 100 MB; anything larger is a corrupt length field. */
    private static final long MAX_HEADER = 100L * 1024 * 1024;
    /** Bytes read from the file per step when streaming a tensor into native memory. */
    static final int CHUNK_BYTES = 16 * 1024 * 1024;

    /** One tensor's header entry; {@code begin}/{@code end} are offsets into the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            return end - begin == 0 ? 0 : (end - begin) / dtype.bytes;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens {@code file} and checks its header (offsets inside the file, byte counts matching shapes). */
    public static SafeTensorsFile open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(file + ": file is " + size + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new SafeTensorsException(file + ": bad header length " + headerLen + " (file size " + size + ")");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
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
            Map<String, Entry> entries = new LinkedHashMap<>();
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
                entries.put(name, entry(file, name, info, dataLen));
            }
            return new SafeTensorsFile(file, ch, dataStart, entries, metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static Entry entry(Path file, String name, JsonNode info, long dataLen) throws SafeTensorsException {
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
        long bytes = dtype.bytes;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = sh.get(i).canConvertToLong() ? sh.get(i).asLong() : -1;
            if (shape[i] < 0) {
                throw new SafeTensorsException(where + ": negative or non-numeric dimension in shape " + sh);
            }
            try {
                bytes = Math.multiplyExact(bytes, shape[i]); // a forged shape must not wrap around to a small size
            } catch (ArithmeticException overflow) {
                throw new SafeTensorsException(where + ": shape " + sh + " of " + dtype + " overflows 64-bit byte counts");
            }
        }
        long begin = off.get(0).canConvertToLong() ? off.get(0).asLong() : -1;
        long end = off.get(1).canConvertToLong() ? off.get(1).asLong() : -1;
        if (begin < 0 || end < begin || end > dataLen) {
            throw new SafeTensorsException(where + ": data_offsets [" + begin + ", " + end
                    + "] out of range (data section is " + dataLen + " bytes)");
        }
        if (end - begin != bytes) {
            throw new SafeTensorsException(where + ": data_offsets span " + (end - begin) + " bytes but shape "
                    + sh + " of " + dtype + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    public Path file() {
        return file;
    }

    /** Byte offset in the file of a tensor's first byte (after the 8-byte length and the JSON header). */
    public long fileOffset(String name) {
        return dataStart + entry(name).begin();
    }

    /** Header entries in file order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(file + ": no tensor '" + name + "'");
        }
        return e;
    }

    /** One tensor's bytes in the Java heap: for small tensors (adapters, optimizer state), not backbones. */
    public Tensor read(String name) throws IOException {
        Entry e = entry(name);
        long n = e.end() - e.begin();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafeTensorsException(file + ": tensor '" + name + "' is " + n + " bytes, too large for a heap array");
        }
        ByteBuffer data = ByteBuffer.allocate((int) n);
        readFully(channel, data, dataStart + e.begin(), file);
        return new Tensor(e.dtype(), e.shape().clone(), data.array());
    }

    /** The largest finite float16 value: a tensor with any larger magnitude cannot be held as float16. */
    public static final float FP16_MAX = 65504f;

    /**
     * The tensor as an NDArray owned by {@code manager}, streamed from the file {@value #CHUNK_BYTES} bytes at a
     * time through one direct buffer, each chunk converted on its way in (so no whole-tensor copy in another type is
     * ever made). Float tensors become {@code floatType}, or keep their stored type when it is null — except BF16,
     * which becomes FLOAT32 because DJL 0.36's PyTorch JNI aborts the process on any BFLOAT16 tensor. Integer tensors
     * become INT64.
     *
     * <p>{@code floatType} FLOAT16 is a request: a tensor with any magnitude above {@value #FP16_MAX} (or a NaN),
     * which float16 cannot hold, is read as FLOAT32 instead — check the returned array's type. BF16 → FLOAT16 is
     * exact for magnitudes in float16's normal range (bf16 has 8 significant bits, fp16 11); smaller ones lose low
     * bits as fp16 subnormals (below 6.0e-8 they become 0). F32 → FLOAT16 rounds to nearest even.
     */
    public NDArray toNDArray(String name, NDManager manager, DataType floatType) throws IOException {
        return toNDArray(name, manager, floatType, CHUNK_BYTES);
    }

    /** As {@link #toNDArray(String, NDManager, DataType)}, {@code chunkBytes} per read (tests cross chunk edges). */
    NDArray toNDArray(String name, NDManager manager, DataType floatType, int chunkBytes) throws IOException {
        Entry e = entry(name);
        DataType loaded = switch (e.dtype()) {
            case F32 -> DataType.FLOAT32;
            case F64 -> DataType.FLOAT64;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.FLOAT32; // decoded to float32 while streaming
            case I32 -> DataType.INT32;
            case I64 -> DataType.INT64;
        };
        long count = e.elementCount();
        boolean integer = e.dtype() == DType.I32 || e.dtype() == DType.I64;
        DataType target = integer ? DataType.INT64 : floatType == null ? loaded : floatType;
        boolean rangeChecked = target == DataType.FLOAT16 && loaded != DataType.FLOAT16;
        NDArray flat = manager.create(new Shape(count), target); // uninitialised (torch.empty): every element is set below
        int stored = e.dtype().bytes;
        long perChunk = Math.max(1, chunkBytes / stored);
        ByteBuffer raw = ByteBuffer.allocateDirect((int) Math.min(perChunk * stored, Math.max(stored, count * stored)))
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer widened = e.dtype() == DType.BF16
                ? ByteBuffer.allocateDirect((int) Math.min(perChunk, Math.max(1, count)) * 4).order(ByteOrder.nativeOrder())
                : null;
        for (long first = 0; first < count; first += perChunk) {
            int n = (int) Math.min(perChunk, count - first);
            raw.clear().limit(n * stored);
            readFully(channel, raw, dataStart + e.begin() + first * stored, file);
            raw.flip();
            ByteBuffer chunk = raw;
            if (widened != null) {
                widened.clear();
                for (int i = 0; i < n; i++) {
                    widened.putInt((raw.getShort(2 * i) & 0xffff) << 16); // bf16 is the upper half of a float32
                }
                chunk = widened.flip();
            } else if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IllegalStateException("big-endian hosts are not supported");
            }
            try (NDManager scratch = manager.newSubManager()) {
                NDArray view = scratch.create(chunk, new Shape(n), loaded);
                if (rangeChecked) {
                    float max = view.abs().max().toType(DataType.FLOAT32, false).getFloat();
                    if (!(max <= FP16_MAX)) { // also true for NaN
                        flat.close();
                        return toNDArray(name, manager, DataType.FLOAT32, chunkBytes);
                    }
                }
                NDArray converted = view.getDataType() == target ? view : view.toType(target, false);
                flat.set(new NDIndex(first + ":" + (first + n)), converted); // copies out of the reused buffer
            }
        }
        NDArray shaped = flat.reshape(new Shape(e.shape()));
        if (shaped != flat) {
            flat.close();
        }
        return shaped;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new SafeTensorsException(file + ": unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }
}
