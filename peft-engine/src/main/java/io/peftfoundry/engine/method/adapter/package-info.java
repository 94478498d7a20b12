/**
 * Bottleneck adapters (Houlsby, Pfeiffer, parallel) saved in AdapterHub's layout.
 *
 * <p>Job spec {@code method.adapter}: {@code variant} houlsby | pfeiffer (default) | parallel,
 * {@code reduction_factor} 1–1024 (16), {@code activation} relu (default) | gelu | swish | silu | tanh.
 * Each variant is the AdapterHub bottleneck config of the same name (DoubleSeqBn, SeqBn, ParBn), computed
 * through {@code BertSublayerOutput.setAdapter}: see {@link io.peftfoundry.engine.method.adapter.AdapterConfig}.
 * The up-projection starts at zero, so a fresh adapter leaves the backbone's output unchanged.
 *
 * <p>Files: {@code adapter_config.json} ({@code name}, {@code config: {mh_adapter, output_adapter,
 * reduction_factor, non_linearity, original_ln_before, original_ln_after, residual_before_ln, is_parallel,
 * scaling, …}}, {@code type: "text_task"}, {@code model_type}, {@code hidden_size}, plus {@code peft_type:
 * "BOTTLENECK_ADAPTER"} for this engine's registry) and {@code adapter.safetensors} with AdapterHub's keys,
 * e.g. {@code bert.encoder.layer.0.output.adapters.default.adapter_down.0.weight} and
 * {@code …adapter_up.weight} ({@code InjectedMethod.weightsFileName()} / {@code keysSavedVerbatim()}).
 */
package io.peftfoundry.engine.method.adapter;
