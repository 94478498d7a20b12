package io.peftfoundry.engine.method;

import ai.djl.ndarray.NDManager;
import io.peftfoundry.engine.model.Backbone;
import io.peftfoundry.engine.model.bert.BertModel;

/**
 * Walks a frozen backbone and adds a method's modules to it (PEFT's model.py). The tools a method
 * has: {@link io.peftfoundry.engine.model.HfModule#replaceModule} to wrap any named linear (LoRA,
 * IA3 — IA3's feed-forward scaling wraps {@code output.dense} and scales its input, the GELU
 * activation), {@link io.peftfoundry.engine.model.bert.BertSublayerOutput#setAdapter} after the
 * attention output / FFN (bottleneck adapters), {@link BertModel#setPrefixEncoder} (prefix tuning)
 * and {@link BertModel#setPromptEncoder} (prompt tuning).
 */
public interface MethodInjector<C extends MethodConfig> {

    /**
     * Installs the method. New parameters are created on {@code manager} from {@code seed}, and
     * only they are marked trainable (encoders and decoders: {@link Backbone}); the backbone stays as it was (frozen unless the method says otherwise).
     */
    InjectedMethod inject(Backbone backbone, C config, NDManager manager, long seed);
}
