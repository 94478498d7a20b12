/**
 * Prompt tuning (Lester et al.), as Hugging Face PEFT's PROMPT_TUNING.
 *
 * <p>Job spec {@code method.prompt}: {@code num_virtual_tokens} P 1–512 (20), {@code init} random (default)
 * | vocab. P soft tokens are prepended to the word embeddings (positions count them, token type 0), the mask
 * is extended, and their positions are dropped from the encoder's output.
 *
 * <p>{@code init} in adapter_config.json's {@code prompt_tuning_init}: random → {@code RANDOM} (normal(0, 1),
 * torch.nn.Embedding's default, as PEFT); vocab → {@code SAMPLE_VOCAB} (P rows of the frozen word-embedding
 * matrix, ids drawn uniformly with the seed). Reading a saved config, RANDOM stays random and any other PEFT
 * init (TEXT, SAMPLE_VOCAB) reads as vocab; the init no longer matters once the weights are loaded.
 * Saved tensor: {@code prompt_embeddings} (P, hidden), without a {@code base_model.model.} prefix.
 */
package io.peftfoundry.engine.method.prompt;
