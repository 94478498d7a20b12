package io.peftfoundry.engine.importer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal reader of the protobuf wire format for the parts of an ONNX {@code ModelProto} an
 * importer needs: {@code graph.initializer} (TensorProto: dims, data_type, name, raw_data,
 * float_data) and {@code graph.node} (NodeProto: input, output, name, op_type).
 * Field numbers are those of onnx.proto3.
 */
public final class OnnxReader {

    /** A FLOAT or INT64 initializer; floats are little-endian raw bytes decoded to float[]. */
    public record Initializer(String name, long[] dims, int dataType, float[] floats) {}

    public record Node(String name, String opType, List<String> inputs, List<String> outputs) {}

    public record Graph(Map<String, Initializer> initializers, List<Node> nodes) {}

    private static final int ONNX_FLOAT = 1;

    private final byte[] buf;

    private OnnxReader(byte[] buf) {
        this.buf = buf;
    }

    public static Graph read(byte[] model) throws IOException {
        return new OnnxReader(model).model();
    }

    private Graph model() throws IOException {
        Cursor c = new Cursor(0, buf.length);
        while (c.more()) {
            long key = c.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 7 && wire == 2) { // ModelProto.graph
                int len = (int) c.varint();
                Graph g = graph(new Cursor(c.pos, c.pos + len));
                c.pos += len;
                return g;
            }
            c.skip(wire);
        }
        throw new IOException("ONNX model has no graph (field 7 of ModelProto)");
    }

    private Graph graph(Cursor c) throws IOException {
        Map<String, Initializer> inits = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        while (c.more()) {
            long key = c.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (wire == 2 && (field == 1 || field == 5)) {
                int len = (int) c.varint();
                Cursor sub = new Cursor(c.pos, c.pos + len);
                if (field == 1) {
                    nodes.add(node(sub));
                } else {
                    Initializer t = tensor(sub);
                    inits.put(t.name(), t);
                }
                c.pos += len;
            } else {
                c.skip(wire);
            }
        }
        return new Graph(inits, nodes);
    }

    private Node node(Cursor c) throws IOException {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "";
        String op = "";
        while (c.more()) {
            long key = c.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (wire == 2 && field >= 1 && field <= 4) {
                String s = c.string();
                switch (field) {
                    case 1 -> in.add(s);
                    case 2 -> out.add(s);
                    case 3 -> name = s;
                    default -> op = s;
                }
            } else {
                c.skip(wire);
            }
        }
        return new Node(name, op, in, out);
    }

    private Initializer tensor(Cursor c) throws IOException {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        int rawStart = -1;
        int rawLen = 0;
        List<Float> floatData = new ArrayList<>();
        while (c.more()) {
            long key = c.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 0) {
                dims.add(c.varint());
            } else if (field == 1 && wire == 2) { // packed dims
                int len = (int) c.varint();
                int end = c.pos + len;
                while (c.pos < end) {
                    dims.add(c.varint());
                }
            } else if (field == 2 && wire == 0) {
                dataType = (int) c.varint();
            } else if (field == 8 && wire == 2) {
                name = c.string();
            } else if (field == 9 && wire == 2) {
                rawLen = (int) c.varint();
                rawStart = c.pos;
                c.pos += rawLen;
            } else if (field == 4 && wire == 2) { // packed float_data
                int len = (int) c.varint();
                ByteBuffer b = ByteBuffer.wrap(buf, c.pos, len).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < len / 4; i++) {
                    floatData.add(b.getFloat());
                }
                c.pos += len;
            } else {
                c.skip(wire);
            }
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        float[] floats = null;
        if (dataType == ONNX_FLOAT) {
            if (rawStart >= 0) {
                floats = new float[rawLen / 4];
                ByteBuffer.wrap(buf, rawStart, rawLen).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(floats);
            } else {
                floats = new float[floatData.size()];
                for (int i = 0; i < floats.length; i++) {
                    floats[i] = floatData.get(i);
                }
            }
            long n = 1;
            for (long x : d) {
                n *= x;
            }
            if (n != floats.length) {
                throw new IOException("ONNX initializer '" + name + "': dims give " + n + " values, data has " + floats.length);
            }
        }
        return new Initializer(name, d, dataType, floats);
    }

    private final class Cursor {
        int pos;
        final int end;

        Cursor(int pos, int end) throws IOException {
            if (end > buf.length || pos > end) {
                throw new IOException("ONNX protobuf: length " + (end - pos) + " at byte " + pos + " runs past the end of the file");
            }
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint() throws IOException {
            long result = 0;
            int shift = 0;
            while (true) {
                if (pos >= end) {
                    throw new IOException("ONNX protobuf: truncated varint at byte " + pos);
                }
                byte b = buf[pos++];
                result |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return result;
                }
                shift += 7;
                if (shift > 63) {
                    throw new IOException("ONNX protobuf: varint too long at byte " + pos);
                }
            }
        }

        String string() throws IOException {
            int len = (int) varint();
            if (len < 0 || pos + len > end) {
                throw new IOException("ONNX protobuf: string of length " + len + " at byte " + pos + " out of range");
            }
            String s = new String(buf, pos, len, StandardCharsets.UTF_8);
            pos += len;
            return s;
        }

        void skip(int wire) throws IOException {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> {
                    long len = varint();
                    if (len < 0 || pos + len > end) {
                        throw new IOException("ONNX protobuf: field of length " + len + " at byte " + pos + " out of range");
                    }
                    pos += (int) len;
                }
                case 5 -> pos += 4;
                default -> throw new IOException("ONNX protobuf: unsupported wire type " + wire + " at byte " + pos);
            }
        }
    }
}
