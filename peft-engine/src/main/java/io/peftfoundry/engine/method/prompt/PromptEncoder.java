package io.peftfoundry.engine.method.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.model.Ops;

/**
 * PEFT's PromptEmbedding: a trainable (P, H) table {@code embedding.weight}. NDList(inputIds (B,T)) →
 * NDList(soft prompt (B, P, H)), the same P vectors for every row; the backbone prepends them to the
 * word embeddings (positions then count them, as with inputs_embeds in transformers) and extends the mask.
 */
public class PromptEncoder extends HfModule {

    private final Parameter weight;

    public PromptEncoder() {
        weight = module("embedding", new Table()).weight;
    }

    public Parameter embedding() {
        return weight;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        long batch = inputs.head().getShape().get(0);
        // on the step's manager: results of ops on the parameter's own array would never be freed
        NDArray w = Ops.onStep(ps.getValue(weight, weight.getArray().getDevice(), training), inputs.head().getManager());
        return new NDList(w.expandDims(0).broadcast(batch, w.getShape().get(0), w.getShape().get(1)));
    }

    /** nn.Embedding's {@code weight}. */
    static final class Table extends HfModule {
        final Parameter weight = param("weight", Parameter.Type.OTHER);

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            throw new UnsupportedOperationException("read through PromptEncoder");
        }
    }
}
