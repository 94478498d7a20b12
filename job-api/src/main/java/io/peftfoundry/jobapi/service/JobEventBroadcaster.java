package io.peftfoundry.jobapi.service;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.ConcurrentHashMap;

/**
 * In-process fan-out of "job X has new events" to the SSE streams watching X. The Kafka consumer signals after it has
 * stored an event; a stream then reads the new events from PostgreSQL. Streams also re-read every second, so events
 * stored by another job-api instance reach them too (a little later).
 */
@ApplicationScoped
public class JobEventBroadcaster {

    private final ConcurrentHashMap<String, Signal> signals = new ConcurrentHashMap<>();

    /** A per-job version counter that watchers wait on. */
    public static final class Signal {
        private long version;
        private int watchers;

        public synchronized long version() {
            return version;
        }

        synchronized void bump() {
            version++;
            notifyAll();
        }

        /** Waits until the version differs from {@code seen}, or the timeout passes. */
        public synchronized void await(long seen, long timeoutMillis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (version == seen) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return;
                }
                wait(left);
            }
        }
    }

    /** Registers a watcher of the job; call {@link #unwatch} when done. */
    public Signal watch(String jobId) {
        return signals.compute(jobId, (id, s) -> {
            Signal signal = s == null ? new Signal() : s;
            synchronized (signal) {
                signal.watchers++;
            }
            return signal;
        });
    }

    public void unwatch(String jobId) {
        signals.computeIfPresent(jobId, (id, s) -> {
            synchronized (s) {
                s.watchers--;
                return s.watchers <= 0 ? null : s;
            }
        });
    }

    /** New events of the job were stored. */
    public void publish(String jobId) {
        Signal s = signals.get(jobId);
        if (s != null) {
            s.bump();
        }
    }
}
