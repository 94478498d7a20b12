package io.peftfoundry.eval.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.GenerationConfig;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Text generation for the OpenAI-compatible endpoints: decoders and their adapters are loaded on demand into the
 * service's {@link ResidentSet} (one budget with everything else loaded), and requests go to the backbone's
 * {@link ServedDecoder}, where they are batched with whatever else is decoding on it.
 */
public final class DecoderServing {

    private final ModelSource source;
    private final ResidentSet resident;
    private final Device device;

    /** Backbones on DJL's default device (GPU 0 when it sees one, else the CPU). */
    public DecoderServing(ModelSource source, ResidentSet resident) {
        this(source, resident, Engine.getInstance().defaultDevice());
    }

    /** Backbones and adapters loaded on {@code device} (the service's {@code foundry.eval.device}). */
    public DecoderServing(ModelSource source, ResidentSet resident, Device device) {
        this.source = source;
        this.resident = resident;
        this.device = device;
    }

    public ResidentSet resident() {
        return resident;
    }

    /** A backbone (and an adapter) leased for one request: nothing of it is evicted until it is closed. */
    public final class Session implements AutoCloseable {
        private final ResidentSet.Lease<ServedDecoder> backbone;
        private final ResidentSet.Lease<ServedDecoder.Adapter> adapter;

        private Session(ResidentSet.Lease<ServedDecoder> backbone, ResidentSet.Lease<ServedDecoder.Adapter> adapter) {
            this.backbone = backbone;
            this.adapter = adapter;
        }

        public ServedDecoder decoder() {
            return backbone.get();
        }

        public long[] encode(String text) {
            return decoder().tokenizer().encode(text);
        }

        public String decode(long[] tokens) {
            return decoder().tokenizer().decode(tokens);
        }

        /** Positions for prompt and completion together. */
        public int maxPositions() {
            return adapter == null ? decoder().maxPositions() : adapter.get().maxPositions();
        }

        public BatchDecoder.Row submit(long[] prompt, GenerationConfig config, BatchDecoder.Listener listener) {
            return decoder().submit(adapter == null ? null : adapter.get(), prompt, config, listener);
        }

        @Override
        public void close() {
            if (adapter != null) {
                adapter.close();
            }
            backbone.close();
        }
    }

    /** Leases backbone {@code model} (an artifact-store model id or name) and, unless null, adapter {@code adapterId}. */
    public Session open(String model, String adapterId) throws IOException {
        Path backboneDir = source.backbone(model);
        Path adapterDir = adapterId == null ? null : source.adapter(adapterId);
        String backboneKey = "decoder:" + backboneDir;
        ResidentSet.Lease<ServedDecoder> backbone = resident.acquire(backboneKey, null, () -> new ServedDecoder(backboneDir, device));
        if (adapterDir == null) {
            return new Session(backbone, null);
        }
        try {
            String key = backboneKey + "|" + adapterDir;
            ResidentSet.Lease<ServedDecoder.Adapter> adapter = resident.acquire(key, backboneKey,
                    () -> backbone.get().load(key, adapterDir));
            return new Session(backbone, adapter);
        } catch (IOException | RuntimeException e) {
            backbone.close();
            throw e;
        }
    }
}
