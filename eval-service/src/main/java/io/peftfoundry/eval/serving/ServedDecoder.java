package io.peftfoundry.eval.serving;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.method.lora.MultiLora;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.task.causal.GenerationConfig;
import io.peftfoundry.engine.task.causal.SpecialTokens;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A decoder backbone being served: loaded once, with one decoding thread that advances every lane by a token per
 * turn. The main lane is a view of the backbone carrying every registered LoRA adapter ({@link MultiLora}): requests
 * for the bare backbone and for any LoRA adapter are decoded in one batch, each row with its own adapter. Other
 * methods (prefix, prompt, IA3, bottleneck adapters) and full fine-tunes get a lane of their own, batched by adapter.
 * Closing it stops the thread and frees every native tensor it holds.
 */
public final class ServedDecoder implements ResidentSet.Resident {

    private static final Logger LOG = Logger.getLogger(ServedDecoder.class);

    /** An adapter registered on this decoder; closing it unregisters it and frees its tensors. */
    public final class Adapter implements ResidentSet.Resident {
        private final String key;
        private final long bytes;
        private final BatchDecoder lane; // null: a LoRA in the main lane
        private final NDManager manager;
        private final int maxPositions;

        private Adapter(String key, long bytes, BatchDecoder lane, NDManager manager, int maxPositions) {
            this.key = key;
            this.bytes = bytes;
            this.lane = lane;
            this.manager = manager;
            this.maxPositions = maxPositions;
        }

        public String key() {
            return key;
        }

        /** Positions left for prompt + completion (virtual tokens of prefix/prompt tuning taken off). */
        public int maxPositions() {
            return maxPositions;
        }

        public boolean batchedWithOtherAdapters() {
            return lane == null;
        }

        @Override
        public long bytes() {
            return bytes;
        }

        @Override
        public void close() {
            synchronized (lock) {
                if (lane == null) {
                    multi.remove(key);
                } else {
                    lanes.remove(key);
                    lane.abandon("length");
                    lane.close();
                }
            }
            if (manager != null) {
                manager.close();
            }
        }
    }

    private final Path dir;
    private final NDManager manager;
    private final CausalDecoder shared;
    private final CausalTokenizer tokenizer;
    private final SpecialTokens specialTokens;
    private final ChatTemplate chatTemplate;
    private final long bytes;
    private final Object lock = new Object();
    private final MultiLora multi;
    private final BatchDecoder main;
    private final Map<String, BatchDecoder> lanes = new LinkedHashMap<>();
    private final Thread loop;
    private volatile boolean closed;

    /** On DJL's default device (GPU 0 when it sees one, else the CPU). */
    public ServedDecoder(Path dir) throws IOException {
        this(dir, Engine.getInstance().defaultDevice());
    }

    /** The backbone and every adapter loaded on it live on {@code device} (the service's {@code foundry.eval.device}). */
    public ServedDecoder(Path dir, Device device) throws IOException {
        this.dir = dir;
        this.manager = NDManager.newBaseManager(device);
        try {
            this.shared = DecoderFiles.load(dir, manager);
            this.tokenizer = new CausalTokenizer(dir.resolve("tokenizer.json"));
            this.specialTokens = SpecialTokens.read(dir, tokenizer, shared.eosTokenId());
            this.chatTemplate = ChatTemplate.exists(dir) ? ChatTemplate.load(dir) : null;
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
        this.bytes = parameterBytes(shared.namedParameters());
        CausalDecoder view = DecoderFiles.view(shared);
        this.multi = new MultiLora(view, manager);
        this.main = new BatchDecoder((HfModule) view, tokenizer, specialTokens.generationEosIds(), shared.maxPositions(), 0,
                manager, multi::select);
        this.loop = new Thread(this::run, "decode-" + dir.getFileName());
        loop.setDaemon(true);
        loop.start();
    }

    private static long parameterBytes(Map<String, Parameter> params) {
        long b = 0;
        for (Parameter p : params.values()) {
            if (p.isInitialized()) {
                b += p.getArray().size() * p.getArray().getDataType().getNumOfBytes();
            }
        }
        return b;
    }

    public Path dir() {
        return dir;
    }

    public String architecture() {
        return shared.architecture();
    }

    public CausalTokenizer tokenizer() {
        return tokenizer;
    }

    public int maxPositions() {
        return shared.maxPositions();
    }

    /** The model's chat template, or null when its directory has none. */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /** True while the decoder's native memory is held (false once evicted). */
    public boolean isOpen() {
        return manager.isOpen();
    }

    /** Where the backbone and the adapters loaded on it live. */
    public Device device() {
        return manager.getDevice();
    }

    /** Loads an adapter (or a full fine-tune) directory trained on this backbone and registers it under {@code key}. */
    public Adapter load(String key, Path adapterDir) throws IOException {
        if (CausalAdapterFiles.isFullModel(adapterDir)) {
            NDManager own = NDManager.newBaseManager(manager.getDevice());
            try {
                CausalModel model = CausalAdapterFiles.load(adapterDir, null, own);
                BatchDecoder lane = BatchDecoder.of(model, tokenizer, specialTokens.generationEosIds(), own, null);
                return register(new Adapter(key, parameterBytes(model.decoder().namedParameters()), lane, own,
                        model.maxPositions()), lane);
            } catch (IOException | RuntimeException e) {
                own.close();
                throw e;
            }
        }
        NDManager own = NDManager.newBaseManager(manager.getDevice());
        try {
            CausalModel model = CausalAdapterFiles.load(adapterDir, DecoderFiles.view(shared), own);
            if (model.method().config().methodType().equals("lora")) {
                long b;
                synchronized (lock) {
                    b = multi.add(key, model.method());
                }
                own.close(); // the LoRA tensors were copied into the main lane
                return new Adapter(key, b, null, null, shared.maxPositions());
            }
            BatchDecoder lane = BatchDecoder.of(model, tokenizer, specialTokens.generationEosIds(), own, null);
            return register(new Adapter(key, parameterBytes(model.trainableParameters()), lane, own, model.maxPositions()), lane);
        } catch (IOException | RuntimeException e) {
            if (own.isOpen()) {
                own.close();
            }
            throw e;
        }
    }

    private Adapter register(Adapter a, BatchDecoder lane) {
        synchronized (lock) {
            lanes.put(a.key, lane);
        }
        return a;
    }

    /** Queues a sequence: on the bare backbone ({@code adapter} null) or on a registered adapter. */
    public BatchDecoder.Row submit(Adapter adapter, long[] prompt, GenerationConfig config, BatchDecoder.Listener listener) {
        BatchDecoder.Row row;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("decoder " + dir + " was unloaded");
            }
            if (adapter == null || adapter.lane == null) {
                row = main.submit(prompt, config, adapter == null ? null : adapter.key, listener);
            } else {
                row = adapter.lane.submit(prompt, config, adapter.key, listener);
            }
            lock.notifyAll();
        }
        return row;
    }

    private void run() {
        while (!closed) {
            synchronized (lock) {
                boolean worked = false;
                List<BatchDecoder> all = new ArrayList<>();
                all.add(main);
                all.addAll(lanes.values());
                for (BatchDecoder lane : all) {
                    if (lane.hasWork()) {
                        worked = true;
                        try {
                            lane.step();
                        } catch (RuntimeException e) {
                            LOG.errorf(e, "decoding on %s failed; the lane's requests end with finish_reason error", dir);
                            lane.abandon("error");
                        }
                    }
                }
                if (!worked) {
                    try {
                        lock.wait(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
        }
        try {
            loop.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            lanes.values().forEach(BatchDecoder::close);
            lanes.clear();
            main.close();
            multi.close();
        }
        tokenizer.close();
        manager.close();
        LOG.infof("decoder %s unloaded (%d bytes freed)", dir, bytes);
    }
}
