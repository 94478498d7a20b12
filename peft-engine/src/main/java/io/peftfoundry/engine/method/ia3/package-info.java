/**
 * (IA)³ (Liu et al.), as Hugging Face PEFT's IA3.
 *
 * <p>Job spec {@code method.ia3}: {@code target_modules} (default key, value, output.dense) and
 * {@code feedforward_modules} (default output.dense, a subset of the targets). Matching follows PEFT's
 * suffix rule, so {@code output.dense} wraps both the attention output and the FFN output projections.
 * A feed-forward layer scales its input by {@code ia3_l} (1, in) — for the FFN that is the GELU activation;
 * any other layer scales its output by {@code ia3_l} (out, 1). Scales start at 1 (the backbone's function).
 *
 * <p>Saved keys: {@code encoder.layer.N.attention.self.key.ia3_l} etc. under PEFT's prefix. Merge folds the
 * scales into the weights (columns for feed-forward layers, rows and bias otherwise); unmerge divides them out.
 */
package io.peftfoundry.engine.method.ia3;
