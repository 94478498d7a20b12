package io.peftfoundry.eval.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.model.bert.BertModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A backbone loaded once. Each adapter gets its own {@link #view()}: a fresh module tree whose frozen parameters are
 * the very same tensors (no copy), so a PEFT method can wrap the view's layers without touching other adapters'
 * trees, and N adapters cost one backbone plus their own weights.
 */
public final class SharedBackbone implements AutoCloseable {

    private final Path dir;
    private final NDManager manager;
    private final BertModel weights;
    private final long bytes;

    /** On DJL's default device (GPU 0 when it sees one, else the CPU). */
    public SharedBackbone(Path dir) throws IOException {
        this(dir, Engine.getInstance().defaultDevice());
    }

    /** The encoder (and the adapters loaded on it) live on {@code device}. */
    public SharedBackbone(Path dir, Device device) throws IOException {
        this.dir = dir;
        this.manager = NDManager.newBaseManager(device);
        try {
            this.weights = BertCheckpoint.load(dir, manager);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
        long b = 0;
        for (Parameter p : weights.namedParameters().values()) {
            b += p.getArray().size() * p.getArray().getDataType().getNumOfBytes();
        }
        this.bytes = b;
    }

    public Path dir() {
        return dir;
    }

    public BertConfig config() {
        return weights.config();
    }

    /** Bytes of the shared weights (counted once, whatever the number of adapters). */
    public long bytes() {
        return bytes;
    }

    /** A module tree over the shared, frozen tensors. */
    public BertModel view() {
        BertModel view = new BertModel(weights.config());
        Map<String, Parameter> shared = weights.namedParameters();
        for (Map.Entry<String, Parameter> e : view.namedParameters().entrySet()) {
            Parameter source = shared.get(e.getKey());
            e.getValue().setArray(source.getArray());
            e.getValue().freeze(true);
        }
        return view;
    }

    /** Bytes of a freshly loaded backbone, which is closed (tests size budgets with it). */
    long bytesAndClose() {
        close();
        return bytes;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** Where the encoder lives (adapters loaded on it go there too). */
    public Device device() {
        return manager.getDevice();
    }
}
