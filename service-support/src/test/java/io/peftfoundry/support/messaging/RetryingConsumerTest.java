package io.peftfoundry.support.messaging;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The retry loop of {@link RetryingConsumer} without Kafka: a transient failure is retried in place until the handler
 * succeeds, and a service stopping mid-retry gets the failure back (the record stays uncommitted, read again after the
 * restart) instead of a loop that never ends or a record sent to the dead-letter topic. No broker is reachable at the
 * configured address, so a dead-lettering attempt would show as a retried send, never as success.
 */
class RetryingConsumerTest {

    private static final ConsumerRecord<String, String> RECORD =
            new ConsumerRecord<>("foundry.jobs.events", 0, 42L, "ftjob-1", "{}");

    private static RetryingConsumer consumer(SimpleMeterRegistry registry) {
        return new RetryingConsumer(registry, "127.0.0.1:9", Duration.ofMillis(1), Duration.ofMillis(5));
    }

    private static double count(SimpleMeterRegistry registry, String name) {
        var c = registry.find(name).tag("channel", "events").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aTransientFailureIsRetriedInPlaceUntilTheHandlerSucceeds() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger calls = new AtomicInteger();
        consumer(registry).process("events", RECORD, r -> {
            if (calls.incrementAndGet() <= 3) {
                throw new SQLTransientConnectionException("the database is restarting");
            }
        });
        assertEquals(4, calls.get(), "three failures, then the success");
        assertEquals(3.0, count(registry, "foundry.messages.retried"));
        assertEquals(0.0, count(registry, "foundry.messages.dead_lettered"));
    }

    @Test
    void stoppingMidRetryHandsTheFailureBackInsteadOfLoopingOrDeadLettering() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetryingConsumer consumer = consumer(registry);
        SQLTransientConnectionException failure = new SQLTransientConnectionException("the database is away");
        CountDownLatch retrying = new CountDownLatch(3);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread channel = new Thread(() -> {
            try {
                consumer.process("events", RECORD, r -> {
                    retrying.countDown();
                    throw failure;
                });
            } catch (Throwable t) {
                thrown.set(t);
            }
        }, "channel");
        channel.start();
        retrying.await(); // the handler has failed three times: the record is being retried
        consumer.onStop(null);
        channel.join(); // returns only if process() stops retrying
        assertSame(failure, thrown.get(), "the transient failure is handed back to the channel (record not committed)");
        assertTrue(count(registry, "foundry.messages.retried") >= 2.0);
        assertEquals(0.0, count(registry, "foundry.messages.dead_lettered"), "a transient failure is never dead-lettered");
    }

    @Test
    void aFailureWhileTheServiceStopsLeavesTheRecordUncommittedInsteadOfDeadLetteringIt() {
        // e.g. the handler met the CDI container or the datasource already shut down: not the record's fault
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetryingConsumer consumer = consumer(registry);
        consumer.onStop(null);
        IllegalStateException failure = new IllegalStateException("ArC container not initialized");
        Exception thrown = assertThrows(Exception.class, () -> consumer.process("events", RECORD, r -> {
            throw failure;
        }));
        assertSame(failure, thrown, "the failure is handed back to the channel (record not committed)");
        assertEquals(0.0, count(registry, "foundry.messages.dead_lettered"));
    }
}
