package io.peftfoundry.eval.messaging;

import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How far the {@code job-requests} channel ({@link IncomingJobRequests}) has read {@code foundry.jobs.requested}: it
 * is caught up when the channel's consumer group has committed, on every partition of the topic, an offset at or past
 * the partition's end — every request published so far has been processed (its spec saved, or dead-lettered).
 * <p>
 * A {@code succeeded} event whose job has no saved spec waits for the spec only while this is not so: a request is
 * published before its job can run, so once the feed is caught up a missing spec will never arrive (an event of a job
 * this platform never queued, or a request that was dead-lettered), and the event must not hold up the events behind
 * it. Committed offsets are used, not the consumer's position, because the position moves when records are fetched,
 * before they are processed (the position only answers for a partition this group has committed nothing on).
 */
@ApplicationScoped
public class SpecFeed {

    private static final Logger LOG = Logger.getLogger(SpecFeed.class);
    private static final String CHANNEL = "job-requests";
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

    private final KafkaClientService kafka;
    private final String topic;

    public SpecFeed(KafkaClientService kafka,
                    @ConfigProperty(name = "mp.messaging.incoming." + CHANNEL + ".topic") String topic) {
        this.kafka = kafka;
        this.topic = topic;
    }

    /**
     * @return true if every request on the channel's topic has been processed by this service's group; false when not, or
     *         when it cannot be told now (no consumer yet, Kafka unreachable) — the caller then keeps waiting
     */
    public boolean caughtUp() {
        KafkaConsumer<Object, Object> consumer = kafka.getConsumer(CHANNEL);
        if (consumer == null) {
            return false;
        }
        try {
            return consumer.runOnPollingThread(c -> {
                List<PartitionInfo> partitions = c.partitionsFor(topic);
                if (partitions == null || partitions.isEmpty()) {
                    return false;
                }
                Set<TopicPartition> all = partitions.stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition()))
                        .collect(Collectors.toSet());
                Map<TopicPartition, Long> ends = c.endOffsets(all);
                Map<TopicPartition, OffsetAndMetadata> committed = c.committed(all);
                Set<TopicPartition> assigned = c.assignment();
                return all.stream().allMatch(tp -> {
                    long end = ends.getOrDefault(tp, Long.MAX_VALUE);
                    OffsetAndMetadata done = committed.get(tp);
                    if (done != null) {
                        return done.offset() >= end;
                    }
                    // nothing committed yet on this partition: caught up only if it is empty, or assigned here and
                    // the group started at its end (auto.offset.reset=latest) with nothing published since
                    return end == 0 || (assigned.contains(tp) && c.position(tp) >= end);
                });
            }).await().atMost(ASK_TIMEOUT);
        } catch (RuntimeException e) {
            LOG.debugf("could not tell whether %s is read to its end: %s", topic, e.toString());
            return false;
        }
    }
}
