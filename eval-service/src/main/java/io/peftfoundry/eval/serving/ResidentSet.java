package io.peftfoundry.eval.serving;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Everything eval-service keeps loaded — backbones (encoders and decoders) and the adapters on them — in one LRU under
 * one memory budget ({@code foundry.eval.model-cache-bytes}). An entry is used through a {@link Lease}; the least
 * recently used entries that nobody leases and that no loaded adapter depends on are closed (their NDManagers
 * released) until the total is within the budget. A backbone goes only after its adapters. Something larger than
 * the budget is still served, alone. Loading happens outside the lock: other keys stay available meanwhile.
 */
public final class ResidentSet implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ResidentSet.class);

    /** Something that can be resident: its native bytes, and close() to free them. */
    public interface Resident extends AutoCloseable {
        long bytes();

        @Override
        void close();
    }

    @FunctionalInterface
    public interface Loader<T extends Resident> {
        T load() throws IOException;
    }

    /** A use of a resident entry; closing it lets the entry be evicted again. */
    public final class Lease<T extends Resident> implements AutoCloseable {
        private final Entry entry;
        private boolean released;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        @SuppressWarnings("unchecked")
        public T get() {
            return (T) entry.value;
        }

        @Override
        public void close() {
            synchronized (ResidentSet.this) {
                if (!released) {
                    released = true;
                    entry.pins--;
                    evictOverBudget();
                }
            }
        }
    }

    private final class Entry {
        final String key;
        final String parent;
        final CompletableFuture<Resident> loading = new CompletableFuture<>();
        Resident value;
        int pins;
        int children;

        Entry(String key, String parent) {
            this.key = key;
            this.parent = parent;
        }
    }

    private final long budgetBytes;
    /** access-ordered: iteration starts at the least recently used */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private long loads;
    private long evictions;

    public ResidentSet(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    /**
     * Leases {@code key}, loading it first if needed. {@code parent} (a backbone key, or null) must be leased by the
     * caller while the child loads; the parent then stays resident as long as the child does.
     */
    public <T extends Resident> Lease<T> acquire(String key, String parent, Loader<T> loader) throws IOException {
        Entry e;
        boolean mine = false;
        synchronized (this) {
            e = entries.get(key);
            if (e == null) {
                e = new Entry(key, parent);
                entries.put(key, e);
                mine = true;
            }
            e.pins++;
        }
        if (mine) {
            try {
                T value = loader.load();
                synchronized (this) {
                    e.value = value;
                    bytes += value.bytes();
                    loads++;
                    if (parent != null && entries.get(parent) != null) {
                        entries.get(parent).children++;
                    }
                    LOG.infof("loaded %s (%d bytes; resident %d of %d bytes)", key, value.bytes(), bytes, budgetBytes);
                    e.loading.complete(value);
                    evictOverBudget();
                }
            } catch (IOException | RuntimeException | Error ex) {
                synchronized (this) {
                    entries.remove(key, e);
                    e.pins--;
                }
                e.loading.completeExceptionally(ex);
                throw ex;
            }
        } else {
            try {
                e.loading.get();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                release(e);
                throw new IOException("interrupted while " + key + " was loading", ex);
            } catch (ExecutionException ex) {
                release(e);
                throw new IOException(key + " failed to load: " + ex.getCause().getMessage(), ex.getCause());
            }
        }
        return new Lease<>(e);
    }

    private synchronized void release(Entry e) {
        e.pins--;
    }

    /** Closes least recently used, unleased entries without loaded dependants until within the budget. */
    private void evictOverBudget() {
        boolean evicted = true;
        while (bytes > budgetBytes && evicted) {
            evicted = false;
            for (Entry e : new ArrayList<>(entries.values())) {
                if (bytes <= budgetBytes) {
                    break;
                }
                if (e.value == null || e.pins > 0 || e.children > 0) {
                    continue;
                }
                entries.remove(e.key);
                bytes -= e.value.bytes();
                evictions++;
                if (e.parent != null && entries.get(e.parent) != null) {
                    entries.get(e.parent).children--;
                }
                try {
                    e.value.close();
                } catch (RuntimeException ex) {
                    LOG.warnf(ex, "closing evicted %s failed", e.key);
                }
                LOG.infof("evicted %s (resident %d of %d bytes)", e.key, bytes, budgetBytes);
                evicted = true;
            }
        }
    }

    /** Keys resident now, least recently used first. */
    public synchronized List<String> keys() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (e.getValue().value != null) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    public synchronized long residentBytes() {
        return bytes;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    public synchronized long loads() {
        return loads;
    }

    public synchronized long evictions() {
        return evictions;
    }

    /** Closes everything (children first). */
    @Override
    public synchronized void close() {
        List<Entry> all = new ArrayList<>(entries.values());
        for (Entry e : all) {
            if (e.parent != null && e.value != null) {
                e.value.close();
            }
        }
        for (Entry e : all) {
            if (e.parent == null && e.value != null) {
                e.value.close();
            }
        }
        entries.clear();
        bytes = 0;
    }
}
