package io.peftfoundry.eval.serving;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.TrainingConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** One adapter applied to a view of a shared backbone, ready to predict; its own weights are {@link #bytes()}. */
final class LoadedAdapter implements ResidentSet.Resident {

    private final NDManager manager;
    private final ClassificationModel model;
    private final ClassificationTrainer predictor;
    private final long bytes;
    private boolean closed;

    LoadedAdapter(SharedBackbone backbone, Path adapterDir, TextTokenizer tokenizer) throws IOException {
        this.manager = NDManager.newBaseManager(backbone.device());
        try {
            boolean full = AdapterFiles.isFullModel(adapterDir);
            this.model = AdapterFiles.load(adapterDir, full ? null : backbone.view(), manager);
            this.predictor = new ClassificationTrainer(model, tokenizer, TrainingConfig.defaults(1e-3, 0), manager);
            long b = 0;
            for (Parameter p : (full ? model.network().namedParameters() : model.trainableParameters()).values()) {
                b += p.getArray().size() * p.getArray().getDataType().getNumOfBytes();
            }
            this.bytes = b;
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public long bytes() {
        return bytes;
    }

    List<String> labels() {
        return model.labels().labels();
    }

    /** Class probabilities per input; null when the adapter was evicted meanwhile (the caller loads it again). */
    synchronized float[][] predict(List<Example> inputs) {
        if (closed) {
            return null;
        }
        return predictor.predict(inputs);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // the adapter's own tensors; the shared backbone's stay
        for (Parameter p : model.trainableParameters().values()) {
            if (p.isInitialized()) {
                p.getArray().close();
            }
        }
        manager.close();
    }
}
