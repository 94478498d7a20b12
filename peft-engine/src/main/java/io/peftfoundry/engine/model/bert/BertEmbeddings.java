package io.peftfoundry.engine.model.bert;

import io.peftfoundry.engine.model.HfEmbedding;
import io.peftfoundry.engine.model.HfLayerNorm;
import io.peftfoundry.engine.model.HfModule;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.peftfoundry.engine.model.HostDropout;

/**
 * Word + position + token-type embeddings, LayerNorm, dropout.
 * Input: ids (B, T) int64, token types (B, T) int64, optional soft prompt (B, P, H) prepended
 * before positions are added (as Hugging Face does for {@code inputs_embeds}), optional first
 * position id (a scalar int64; default 0 — prefix tuning passes P, as transformers' BERT numbers
 * positions after {@code past_key_values}). Output (B, P+T, H).
 */
public class BertEmbeddings extends HfModule {

    private final BertConfig config;
    private final HfEmbedding word;
    private final HfEmbedding position;
    private final HfEmbedding tokenType;
    private final HfLayerNorm norm;

    public BertEmbeddings(BertConfig c) {
        this.config = c;
        word = module("word_embeddings", new HfEmbedding(c.vocabSize(), c.hiddenSize()));
        position = module("position_embeddings", new HfEmbedding(c.maxPositionEmbeddings(), c.hiddenSize()));
        tokenType = module("token_type_embeddings", new HfEmbedding(c.typeVocabSize(), c.hiddenSize()));
        norm = module("LayerNorm", new HfLayerNorm(c.hiddenSize(), c.layerNormEps()));
    }

    public HfEmbedding wordEmbeddings() {
        return word;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray types = inputs.get(1);
        NDArray x = word.forward(ps, new NDList(ids), training).head();
        if (inputs.size() > 2 && inputs.get(2) != null) {
            NDArray prompt = inputs.get(2);
            x = prompt.concat(x, 1);
            NDManager m = ids.getManager();
            long p = prompt.getShape().get(1);
            types = m.zeros(new ai.djl.ndarray.types.Shape(ids.getShape().get(0), p), DataType.INT64).concat(types, 1);
        }
        long t = x.getShape().get(1);
        long first = inputs.size() > 3 && inputs.get(3) != null ? inputs.get(3).getLong() : 0;
        if (first + t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence of " + t + " tokens" + (first > 0 ? " after " + first + " prefix positions" : "")
                    + " exceeds max_position_embeddings " + config.maxPositionEmbeddings());
        }
        NDArray positions = ids.getManager().arange((int) first, (int) (first + t), 1, DataType.INT64, ids.getDevice());
        x = x.add(position.forward(ps, new NDList(positions), training).head())
                .add(tokenType.forward(ps, new NDList(types), training).head());
        x = norm.forward(ps, new NDList(x), training).head();
        if (training && config.hiddenDropoutProb() > 0) {
            x = HostDropout.apply(x, config.hiddenDropoutProb());
        }
        return new NDList(x);
    }
}
