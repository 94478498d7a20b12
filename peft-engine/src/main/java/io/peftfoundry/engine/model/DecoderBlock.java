package io.peftfoundry.engine.model;

/**
 * A pre-norm decoder block's adapter sites. Each adapter gets {@code NDList(sublayer output p (B,T,H), sublayer
 * input r (B,T,H))} and returns the new p, added to the residual stream: {@code attention_adapters} after the
 * attention's output projection, {@code output_adapters} after the MLP (AdapterHub's module names).
 */
public interface DecoderBlock {

    String ATTENTION_ADAPTERS = "attention_adapters";
    String OUTPUT_ADAPTERS = "output_adapters";

    void setAttentionAdapter(HfModule adapter);

    void setOutputAdapter(HfModule adapter);
}
