package io.peftfoundry.engine.method;

/** Hyperparameters of one PEFT method: a plain validated record per method (like PEFT's config.py). */
public interface MethodConfig {

    /** The job spec's {@code method.type}: lora, adapter, prefix, prompt, ia3, full. */
    String methodType();

    /** PEFT's {@code peft_type} in adapter_config.json (LORA, IA3, PREFIX_TUNING, PROMPT_TUNING…). */
    String peftType();
}
