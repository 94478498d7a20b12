/**
 * Prefix tuning (Li &amp; Liang), as Hugging Face PEFT's PREFIX_TUNING.
 *
 * <p>Job spec {@code method.prefix}: {@code num_virtual_tokens} P 1–512 (20), {@code projection_hidden_size}
 * 0–8192 (512; 0 trains the prefix vectors directly). Every attention layer sees P extra projected keys and
 * values in front of its own; the backbone extends the attention mask with P ones and, as transformers' BERT
 * does with {@code past_key_values}, numbers the real tokens' positions from P.
 *
 * <p>Saved as PEFT saves it: the final vectors, one tensor {@code prompt_embeddings} of shape
 * (P, num_layers·2·hidden) — column block 2l is layer l's key, 2l+1 its value — and {@code adapter_config.json}
 * with {@code peft_type: PREFIX_TUNING}, {@code num_virtual_tokens}, {@code token_dim}, {@code num_layers},
 * {@code num_attention_heads}, {@code encoder_hidden_size}, {@code prefix_projection}. A config read back from
 * that file builds the encoder without the MLP (PEFT's inference mode) and loads the vectors directly.
 */
package io.peftfoundry.engine.method.prefix;
