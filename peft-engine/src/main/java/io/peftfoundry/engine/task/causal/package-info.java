/**
 * Causal language-model tasks on decoder backbones ({@link io.peftfoundry.engine.model.gpt2.Gpt2LmHeadModel}).
 *
 * <ul>
 *   <li>{@link io.peftfoundry.engine.task.causal.CausalTokenizer}: byte-level BPE {@code tokenizer.json}, text ↔ ids,
 *       no special tokens added.</li>
 *   <li>{@code sft}: {@link io.peftfoundry.engine.task.causal.SftEncoder} — prompt + completion + EOS, loss on the
 *       completion and EOS only; too long: the completion is cut (no EOS), a prompt of max_seq_length tokens or
 *       more is rejected (null).</li>
 *   <li>{@code sft} chat conversations: {@link io.peftfoundry.engine.task.causal.chat.ChatEncoder} — rendered by the
 *       model's chat template, loss on every assistant turn (prefix rendering); {@link io.peftfoundry.engine.task.causal.SftExamples}
 *       dispatches between the two formats.</li>
 *   <li>{@code continued_pretraining}: {@link io.peftfoundry.engine.task.causal.Packing} — documents joined with EOS
 *       and cut into blocks of max_seq_length, loss on every token.</li>
 *   <li>{@link io.peftfoundry.engine.task.causal.CausalBatch} right-pads; {@link io.peftfoundry.engine.task.causal.CausalLmLoss}
 *       is the next-token cross-entropy over target tokens (perplexity = exp of it) with token accuracy.</li>
 *   <li>{@link io.peftfoundry.engine.task.causal.Generator}: greedy or temperature/top-p sampling with a key/value
 *       cache, max new tokens, EOS and stop sequences.</li>
 * </ul>
 * Decoder convention: {@code NDList(ids (B,T), mask (B,P+T) or null, k0, v0, …) → NDList(logits (B,T,V), k0', v0', …)}.
 * PEFT methods reach a decoder through {@link io.peftfoundry.engine.model.Backbone}: LoRA, IA3 and full work on
 * any backbone; adapter, prefix and prompt still need an encoder.
 */
package io.peftfoundry.engine.task.causal;
