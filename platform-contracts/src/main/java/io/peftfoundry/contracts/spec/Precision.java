package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.peftfoundry.contracts.WireEnum;

/**
 * How the frozen backbone is held in memory. {@code fp32}: every weight widened to float32 (the default).
 * {@code fp16}: the frozen weights of linear layers and embeddings are held as float16 and their matrix products run
 * in float16 (half the memory of those weights); norms, softmax, the loss, every trainable parameter and the optimizer
 * state stay float32, and the loss is scaled dynamically so that gradients through float16 products do not underflow.
 * {@code bf16}: the same weights held as bfloat16 and their products computed in bfloat16 (as Hugging Face PEFT with
 * {@code torch_dtype=bfloat16}); a bf16 checkpoint is used as stored (memory-mapped), and no loss scaling is needed
 * (bfloat16 has float32's range). Trainable parameters and optimizer state stay float32.
 * Neither half precision is allowed with {@code method.type: "full"} (its trainable weights must be float32).
 */
public enum Precision implements WireEnum {
    FP32("fp32"),
    FP16("fp16"),
    BF16("bf16");

    private final String wire;

    Precision(String wire) {
        this.wire = wire;
    }

    @Override
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Precision fromWire(String value) {
        return WireEnum.fromWire(Precision.class, value);
    }
}
