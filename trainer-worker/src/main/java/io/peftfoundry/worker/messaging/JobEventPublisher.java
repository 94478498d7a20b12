package io.peftfoundry.worker.messaging;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.worker.config.WorkerConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends {@link JobEvent}s to {@link Topics#JOBS_EVENTS} (channel {@code job-events}), keyed by job id.
 *
 * <p>Progress events ({@link #publishKeepingUnsent}: metrics, checkpoint, message) are not waited on, but not given up
 * either: one the producer could not deliver (Kafka away longer than its {@code delivery.timeout.ms}, 120 s by default)
 * is kept and sent again, with its seq, every {@code foundry.worker.unsent-events-retry-every} until the broker
 * acknowledges it, so a job's history has no gap after a long outage (job-api stores a late event under its seq and
 * applies state only from newer ones). At most {@code foundry.worker.unsent-events-max} are kept (about 1 KB
 * each); beyond that the oldest metrics event is dropped and counted ({@code foundry_worker_events_dropped_total}).
 * They live in this process only: a worker killed during an outage loses its unsent progress (that attempt's history
 * ends early, as it would have anyway). Events that end a run go through the durable outbox instead
 * ({@link EventOutboxRelay}).
 */
@ApplicationScoped
public class JobEventPublisher {

    private static final Logger LOG = Logger.getLogger(JobEventPublisher.class);

    private final Emitter<Record<String, JobEvent>> emitter;
    private final WorkerConfig config;
    /** Undelivered progress events in the order they were first sent (key: a local counter). */
    private final ConcurrentSkipListMap<Long, JobEvent> unsent = new ConcurrentSkipListMap<>();
    private final AtomicLong order = new AtomicLong();
    private final AtomicBoolean resending = new AtomicBoolean();
    private final Counter dropped;
    private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "job-events-resend");
        t.setDaemon(true);
        return t;
    });

    public JobEventPublisher(@Channel("job-events") Emitter<Record<String, JobEvent>> emitter, WorkerConfig config,
                             MeterRegistry registry) {
        this.emitter = emitter;
        this.config = config;
        Gauge.builder("foundry.worker.events.unsent", unsent, Map::size)
                .description("progress events not yet acknowledged by Kafka after a failed send, kept to be sent again")
                .register(registry);
        this.dropped = Counter.builder("foundry.worker.events.dropped")
                .description("progress events dropped because more than foundry.worker.unsent-events-max were unsent")
                .register(registry);
    }

    void onStart(@Observes StartupEvent ev) {
        long every = config.unsentEventsRetryEvery().toMillis();
        retry.scheduleWithFixedDelay(this::resendUnsent, every, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent ev) {
        retry.shutdown();
    }

    /** Completes once the broker has acknowledged the event. */
    public CompletionStage<Void> publish(JobEvent event) {
        return emitter.send(Record.of(event.jobId(), event));
    }

    /** Sends without waiting; if the send fails, the event is kept and sent again until the broker acknowledges it. */
    public void publishKeepingUnsent(JobEvent event) {
        long position = order.incrementAndGet();
        send(event).whenComplete((ok, failure) -> {
            if (failure != null) {
                keep(position, event, failure);
            }
        });
    }

    /** Progress events given up by the producer and not yet acknowledged on a later try. */
    public int unsentEvents() {
        return unsent.size();
    }

    private CompletableFuture<Void> send(JobEvent event) {
        try {
            return publish(event).toCompletableFuture();
        } catch (RuntimeException e) { // the emitter refuses at once (its buffer is full, the channel is down)
            return CompletableFuture.failedFuture(e);
        }
    }

    private void keep(long position, JobEvent event, Throwable failure) {
        if (unsent.put(position, event) == null && unsent.size() == 1) {
            LOG.warnf("job %s: %s event seq %d not delivered (%s); kept, sent again every %s until Kafka acknowledges",
                    event.jobId(), event.type().wire(), event.seq(), failure.getMessage(),
                    config.unsentEventsRetryEvery());
        }
        while (unsent.size() > config.unsentEventsMax()) {
            var victim = unsent.entrySet().stream().filter(e -> e.getValue().type() == JobEventType.METRICS)
                    .findFirst().orElse(unsent.firstEntry());
            if (unsent.remove(victim.getKey()) != null) {
                dropped.increment();
                LOG.warnf("job %s: %s event seq %d dropped: more than %d events unsent", victim.getValue().jobId(),
                        victim.getValue().type().wire(), victim.getValue().seq(), config.unsentEventsMax());
            }
        }
    }

    /**
     * One round at a time: every kept event is sent again, oldest first; those acknowledged are forgotten, those that
     * fail again are kept (the broker is still away: the next round starts after these sends failed, so an event is
     * never in two sends of this class at once).
     */
    void resendUnsent() {
        if (unsent.isEmpty() || !resending.compareAndSet(false, true)) {
            return;
        }
        List<CompletableFuture<Void>> round = new ArrayList<>();
        for (var entry : unsent.entrySet()) {
            long position = entry.getKey();
            JobEvent event = entry.getValue();
            round.add(send(event).handle((ok, failure) -> {
                if (failure == null) {
                    unsent.remove(position, event);
                }
                return null;
            }));
        }
        CompletableFuture.allOf(round.toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
            resending.set(false);
            if (!unsent.isEmpty()) {
                LOG.debugf("%d progress events still unsent", unsent.size());
            } else {
                LOG.infof("every kept progress event has been delivered");
            }
        });
    }
}
