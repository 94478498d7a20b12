package io.peftfoundry.worker.messaging;

import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.resources.WorkerCapabilities;
import io.peftfoundry.worker.config.WorkerConfig;
import io.peftfoundry.worker.service.JobProcessor;
import io.peftfoundry.worker.service.WorkerCapacity;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Sends this worker's {@link WorkerCapabilities} to {@link Topics#WORKERS} (channel {@code worker-capabilities}, key:
 * worker id): at start, every {@code foundry.worker.advertise-every}, and {@code down} at a clean shutdown. job-api
 * keeps the newest per worker and refuses at submit a job that no recently seen worker can hold. Only a worker that
 * claims jobs ({@code foundry.worker.consume}) advertises.
 */
@ApplicationScoped
public class CapabilitiesAdvertiser {

    private static final Logger LOG = Logger.getLogger(CapabilitiesAdvertiser.class);

    private final Emitter<Record<String, WorkerCapabilities>> emitter;
    private final WorkerCapacity capacity;
    private final JobProcessor processor;
    private final WorkerConfig config;
    private ScheduledExecutorService timer;

    public CapabilitiesAdvertiser(@Channel("worker-capabilities") Emitter<Record<String, WorkerCapabilities>> emitter,
                                  WorkerCapacity capacity, JobProcessor processor, WorkerConfig config) {
        this.emitter = emitter;
        this.capacity = capacity;
        this.processor = processor;
        this.config = config;
    }

    void onStart(@Observes StartupEvent ev) {
        if (!config.consume()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "capabilities-advertiser");
            t.setDaemon(true);
            return t;
        });
        long every = config.advertiseEvery().toMillis();
        timer.scheduleAtFixedRate(() -> send(WorkerCapabilities.UP), 0, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (timer == null) {
            return;
        }
        timer.shutdownNow();
        try {
            send(WorkerCapabilities.DOWN).toCompletableFuture().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("worker %s: 'down' not sent (%s); job-api forgets it once it stays silent", processor.workerId(),
                    e.getMessage());
        }
    }

    private java.util.concurrent.CompletionStage<Void> send(String state) {
        try {
            WorkerCapabilities c = capacity.capabilities(processor.workerId(), state);
            return emitter.send(Record.of(c.workerId(), c)).exceptionally(e -> {
                LOG.warnf("worker %s: capabilities not sent (%s); next try in %s", c.workerId(), e.getMessage(),
                        config.advertiseEvery());
                return null;
            });
        } catch (RuntimeException e) {
            LOG.errorf("worker %s: capabilities unknown: %s", processor.workerId(), e.getMessage());
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
    }
}
