package io.peftfoundry.eval.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.Example;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Predictions with many adapters on shared backbones: each backbone is loaded once; adapters are applied to it per
 * request. Both stay loaded in the service's {@link ResidentSet}: one LRU under one memory budget, backbones
 * included (closed once their adapters are gone), shared with the decoders being served.
 */
public class PredictionService implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PredictionService.class);

    /** One input's answer: the top label, its probability, and every label's probability. */
    public record Prediction(String label, double score, Map<String, Double> scores) {}

    private final ModelSource source;
    private final ResidentSet resident;
    private final boolean ownsResident;
    private final int maxSeqLength;
    private final Device device;
    private int backboneLoads;
    private int adapterLoads;

    /** With its own budget (tests). */
    public PredictionService(ModelSource source, long budgetBytes, int maxSeqLength) {
        this(source, new ResidentSet(budgetBytes), true, maxSeqLength, Engine.getInstance().defaultDevice());
    }

    /** Sharing {@code resident}'s budget with the other loaded models of the service, on DJL's default device. */
    public PredictionService(ModelSource source, ResidentSet resident, int maxSeqLength) {
        this(source, resident, false, maxSeqLength, Engine.getInstance().defaultDevice());
    }

    /** As above, every encoder and adapter loaded on {@code device} (the service's {@code foundry.eval.device}). */
    public PredictionService(ModelSource source, ResidentSet resident, int maxSeqLength, Device device) {
        this(source, resident, false, maxSeqLength, device);
    }

    private PredictionService(ModelSource source, ResidentSet resident, boolean ownsResident, int maxSeqLength,
            Device device) {
        this.source = source;
        this.resident = resident;
        this.ownsResident = ownsResident;
        this.maxSeqLength = maxSeqLength;
        this.device = device;
    }

    /** A loaded encoder and its tokenizer. */
    private static final class Encoder implements ResidentSet.Resident {
        final SharedBackbone backbone;
        final TextTokenizer tokenizer;

        Encoder(SharedBackbone backbone, TextTokenizer tokenizer) {
            this.backbone = backbone;
            this.tokenizer = tokenizer;
        }

        @Override
        public long bytes() {
            return backbone.bytes();
        }

        @Override
        public void close() {
            tokenizer.close();
            backbone.close();
        }
    }

    public List<Prediction> predict(String model, String adapterId, List<String> inputs) throws IOException {
        List<Example> examples = inputs.stream().map(t -> new Example(t, null, null)).toList();
        Path backboneDir = source.backbone(model);
        Path adapterDir = source.adapter(adapterId);
        String backboneKey = "encoder:" + backboneDir;
        try (ResidentSet.Lease<Encoder> encoder = resident.acquire(backboneKey, null, () -> loadEncoder(backboneDir));
             ResidentSet.Lease<LoadedAdapter> a = resident.acquire(backboneKey + "|" + adapterDir, backboneKey,
                     () -> loadAdapter(encoder.get(), adapterDir))) {
            float[][] probs = a.get().predict(examples);
            List<String> labels = a.get().labels();
            List<Prediction> out = new ArrayList<>(probs.length);
            for (float[] p : probs) {
                int best = 0;
                Map<String, Double> scores = new LinkedHashMap<>();
                for (int j = 0; j < p.length; j++) {
                    scores.put(labels.get(j), (double) p[j]);
                    if (p[j] > p[best]) {
                        best = j;
                    }
                }
                out.add(new Prediction(labels.get(best), p[best], scores));
            }
            return out;
        }
    }

    private Encoder loadEncoder(Path backboneDir) throws IOException {
        SharedBackbone backbone = new SharedBackbone(backboneDir, device);
        try {
            TextTokenizer tokenizer = new TextTokenizer(backboneDir.resolve("tokenizer.json"), maxSeqLength,
                    backbone.config().padTokenId());
            synchronized (this) {
                backboneLoads++;
            }
            LOG.infof("backbone %s loaded once (%d bytes), shared by its adapters", backboneDir, backbone.bytes());
            return new Encoder(backbone, tokenizer);
        } catch (IOException | RuntimeException e) {
            backbone.close();
            throw e;
        }
    }

    private LoadedAdapter loadAdapter(Encoder encoder, Path adapterDir) throws IOException {
        LoadedAdapter loaded = new LoadedAdapter(encoder.backbone, adapterDir, encoder.tokenizer);
        synchronized (this) {
            adapterLoads++;
        }
        return loaded;
    }

    /** Adapters loaded now, keys "encoder:backboneDir|adapterDir", least recently used first. */
    public List<String> loadedAdapters() {
        return resident.keys().stream().filter(k -> k.startsWith("encoder:") && k.contains("|")).toList();
    }

    /** How many times a backbone was read from disk. */
    public synchronized int backboneLoads() {
        return backboneLoads;
    }

    /** How many times an adapter was loaded (first use, and again after an eviction). */
    public synchronized int adapterLoads() {
        return adapterLoads;
    }

    @Override
    public void close() {
        if (ownsResident) {
            resident.close();
        }
    }
}
