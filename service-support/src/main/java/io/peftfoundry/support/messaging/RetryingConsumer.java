package io.peftfoundry.support.messaging;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.properties.IfBuildProperty;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a consumer's handler on a record until it is done. A transient failure ({@link Transients}: the database
 * restarting, a dependency away) is retried in place with exponential back-off, so the record is neither lost nor
 * overtaken: the channel processes one record at a time, so every later record of the partition (and so of the same
 * job, whose id is the key) waits behind it. Any other failure means the record cannot be processed: it goes to
 * {@code <topic>.dlq} with the reason in headers ({@code dead-letter-reason}, {@code -cause}, {@code -topic},
 * {@code -partition}, {@code -offset}), and the channel moves on.
 *
 * <p>Channels using it set {@code failure-strategy=fail} (a handler only throws when the service is shutting down —
 * mid-retry, or failing while it stops: the record is then not committed and is read again after the restart; it is
 * never dead-lettered then) and
 * {@code throttled.unprocessed-record-max-age.ms=0} (a record may wait longer than a minute while PostgreSQL restarts).
 */
@ApplicationScoped
@IfBuildProperty(name = "foundry.kafka.enabled", stringValue = "true", enableIfMissing = true)
public class RetryingConsumer {

    private static final Logger LOG = Logger.getLogger(RetryingConsumer.class);

    /** The handler of one record; throws to fail it. */
    public interface Handler {
        void handle(ConsumerRecord<String, String> record) throws Exception;
    }

    private final MeterRegistry registry;
    private final String bootstrapServers;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private volatile boolean stopping;
    private KafkaProducer<String, String> deadLetters;

    public RetryingConsumer(MeterRegistry registry,
                            @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers,
                            @ConfigProperty(name = "foundry.messaging.retry-initial", defaultValue = "200ms") Duration initialBackoff,
                            @ConfigProperty(name = "foundry.messaging.retry-max", defaultValue = "5s") Duration maxBackoff) {
        this.registry = registry;
        this.bootstrapServers = bootstrapServers;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
    }

    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
        synchronized (this) {
            if (deadLetters != null) {
                deadLetters.close(Duration.ofSeconds(2));
            }
        }
    }

    /**
     * Handles the record: returns once the handler succeeded or the record was dead-lettered; throws only when the
     * service stops while a transient failure is being retried.
     */
    public void process(String channel, ConsumerRecord<String, String> record, Handler handler) throws Exception {
        long backoff = initialBackoff.toMillis();
        int attempts = 0;
        long firstFailure = 0;
        long lastLog = 0;
        while (true) {
            try {
                handler.handle(record);
                if (attempts > 0) {
                    LOG.infof("%s: record %s (key %s) processed after %d retries over %.1f s", channel,
                            position(record), record.key(), attempts, (System.nanoTime() - firstFailure) / 1e9);
                }
                return;
            } catch (Exception e) {
                // checked first: while the service stops, a failure is most likely the shutdown's (the CDI container
                // or the datasource already closed), not the record's — it must not be dead-lettered
                if (stopping) {
                    LOG.warnf("%s: stopping while record %s (key %s) failed (%s): left uncommitted, read again after"
                            + " the restart", channel, position(record), record.key(), e.toString());
                    throw e;
                }
                if (!Transients.isTransient(e)) {
                    deadLetter(channel, record, e);
                    return;
                }
                if (attempts == 0) {
                    firstFailure = System.nanoTime();
                }
                attempts++;
                registry.counter("foundry.messages.retried", "channel", channel).increment();
                if (attempts == 1 || System.nanoTime() - lastLog > TimeUnit.SECONDS.toNanos(30)) {
                    lastLog = System.nanoTime();
                    LOG.warnf("%s: record %s (key %s) hit a transient failure (%s); retry %d in %d ms, later records"
                            + " of the partition wait", channel, position(record), record.key(), e.toString(),
                            attempts, backoff);
                }
                sleep(backoff);
                backoff = Math.min(maxBackoff.toMillis(), backoff * 2);
            }
        }
    }

    private void deadLetter(String channel, ConsumerRecord<String, String> record, Throwable cause) throws Exception {
        String topic = record.topic() + ".dlq";
        LOG.errorf("%s: record %s (key %s) cannot be processed, sent to %s: %s", channel, position(record),
                record.key(), topic, cause.toString());
        RecordHeaders headers = new RecordHeaders();
        header(headers, "dead-letter-reason", String.valueOf(cause.getMessage()));
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        header(headers, "dead-letter-cause", root.getClass().getName());
        header(headers, "dead-letter-topic", record.topic());
        header(headers, "dead-letter-partition", Integer.toString(record.partition()));
        header(headers, "dead-letter-offset", Long.toString(record.offset()));
        long backoff = initialBackoff.toMillis();
        while (true) {
            try {
                producer().send(new ProducerRecord<>(topic, null, record.key(), record.value(), headers))
                        .get(30, TimeUnit.SECONDS);
                registry.counter("foundry.messages.dead_lettered", "channel", channel).increment();
                return;
            } catch (Exception e) {
                if (stopping) {
                    throw e;
                }
                LOG.warnf("%s: writing record %s to %s failed (%s); retrying in %d ms", channel, position(record),
                        topic, e.toString(), backoff);
                sleep(backoff);
                backoff = Math.min(maxBackoff.toMillis(), backoff * 2);
            }
        }
    }

    private synchronized KafkaProducer<String, String> producer() {
        if (deadLetters == null) {
            deadLetters = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ProducerConfig.CLIENT_ID_CONFIG, "dead-letters-" + Long.toHexString(System.nanoTime()),
                    ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));
        }
        return deadLetters;
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String position(ConsumerRecord<?, ?> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset();
    }

    private static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }
}
