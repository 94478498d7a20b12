package io.peftfoundry.engine.io;

/** Element types this engine reads from and writes to safetensors files. */
public enum DType {
    F32(4), F64(8), F16(2), BF16(2), I64(8), I32(4);

    public final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** @return the type for a safetensors dtype string, or null when unsupported */
    public static DType parse(String s) {
        for (DType d : values()) {
            if (d.name().equals(s)) {
                return d;
            }
        }
        return null;
    }
}
