package io.peftfoundry.eval.serving;

import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.Example;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Predictions with many adapters on shared backbones: each backbone is loaded once; adapters are applied to it per
 * request and kept loaded in an LRU whose total adapter bytes stay within {@code budgetBytes} (the least recently
 * used are closed first; one adapter larger than the budget is still served, alone).
 */
public class PredictionService implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PredictionService.class);

    /** One input's answer: the top label, its probability, and every label's probability. */
    public record Prediction(String label, double score, Map<String, Double> scores) {}

    private final ModelSource source;
    private final long budgetBytes;
    private final int maxSeqLength;
    private final Map<Path, SharedBackbone> backbones = new HashMap<>();
    private final Map<Path, TextTokenizer> tokenizers = new HashMap<>();
    /** access-ordered: iteration starts at the least recently used */
    private final LinkedHashMap<String, LoadedAdapter> adapters = new LinkedHashMap<>(16, 0.75f, true);
    private long adapterBytes;
    private int backboneLoads;
    private int adapterLoads;

    public PredictionService(ModelSource source, long budgetBytes, int maxSeqLength) {
        this.source = source;
        this.budgetBytes = budgetBytes;
        this.maxSeqLength = maxSeqLength;
    }

    public List<Prediction> predict(String model, String adapterId, List<String> inputs) throws IOException {
        List<Example> examples = inputs.stream().map(t -> new Example(t, null, null)).toList();
        Path backboneDir = source.backbone(model);
        Path adapterDir = source.adapter(adapterId);
        for (int attempt = 0; attempt < 3; attempt++) {
            LoadedAdapter a = adapter(backboneDir, adapterDir);
            float[][] probs = a.predict(examples);
            if (probs != null) {
                List<String> labels = a.labels();
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
        throw new IOException("adapter " + adapterId + " was evicted three times while predicting: raise"
                + " foundry.eval.adapter-cache-bytes");
    }

    private synchronized LoadedAdapter adapter(Path backboneDir, Path adapterDir) throws IOException {
        String key = backboneDir + "|" + adapterDir;
        LoadedAdapter loaded = adapters.get(key);
        if (loaded != null) {
            return loaded;
        }
        SharedBackbone backbone = backbones.get(backboneDir);
        if (backbone == null) {
            backbone = new SharedBackbone(backboneDir);
            backbones.put(backboneDir, backbone);
            tokenizers.put(backboneDir, new TextTokenizer(backboneDir.resolve("tokenizer.json"), maxSeqLength,
                    backbone.config().padTokenId()));
            backboneLoads++;
            LOG.infof("backbone %s loaded once (%d bytes), shared by its adapters", backboneDir, backbone.bytes());
        }
        loaded = new LoadedAdapter(backbone, adapterDir, tokenizers.get(backboneDir));
        adapterLoads++;
        adapters.put(key, loaded);
        adapterBytes += loaded.bytes();
        Iterator<Map.Entry<String, LoadedAdapter>> it = adapters.entrySet().iterator();
        while (adapterBytes > budgetBytes && it.hasNext()) {
            Map.Entry<String, LoadedAdapter> lru = it.next();
            if (lru.getValue() == loaded) {
                continue;
            }
            it.remove();
            adapterBytes -= lru.getValue().bytes();
            lru.getValue().close();
            LOG.infof("adapter %s evicted (adapter cache at %d of %d bytes)", lru.getKey(), adapterBytes, budgetBytes);
        }
        return loaded;
    }

    /** Adapters loaded now, keys "backboneDir|adapterDir", least recently used first. */
    public synchronized List<String> loadedAdapters() {
        return new ArrayList<>(adapters.keySet());
    }

    public synchronized long loadedAdapterBytes() {
        return adapterBytes;
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
    public synchronized void close() {
        adapters.values().forEach(LoadedAdapter::close);
        adapters.clear();
        tokenizers.values().forEach(TextTokenizer::close);
        backbones.values().forEach(SharedBackbone::close);
        backbones.clear();
    }
}
