package io.peftfoundry.systemtests;

import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** Reads {@code foundry.jobs.events} from "now" on in a background thread and keeps every job's events in order. */
final class EventWatcher implements AutoCloseable {

    private final Map<String, List<JobEvent>> byJob = new ConcurrentHashMap<>();
    private final Map<String, Long> firstRunningNanos = new ConcurrentHashMap<>();
    private final KafkaConsumer<String, String> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    EventWatcher(String bootstrapServers) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()));
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.JOBS_EVENTS, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve "end" now, before any job is submitted
        thread = new Thread(this::run, "job-events-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        var mapper = ContractsJson.newMapper();
        while (running) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                try {
                    JobEvent e = mapper.readValue(r.value(), JobEvent.class);
                    // the time first: a waiter that sees the event must also find its time
                    if (e.type() == JobEventType.STATUS && e.status() != null && e.status().wire().equals("running")) {
                        firstRunningNanos.putIfAbsent(e.jobId(), System.nanoTime());
                    }
                    byJob.computeIfAbsent(e.jobId(), k -> new CopyOnWriteArrayList<>()).add(e);
                } catch (Exception ex) {
                    System.err.println("[system-tests] unreadable job event: " + r.value());
                }
            }
        }
        consumer.close();
    }

    /** {@link System#nanoTime()} when the job's first {@code running} status event was read here, or null. */
    Long firstRunningNanos(String jobId) {
        return firstRunningNanos.get(jobId);
    }

    List<JobEvent> events(String jobId) {
        return new ArrayList<>(byJob.getOrDefault(jobId, List.of()));
    }

    /** Waits for the first event of the job matching {@code p}; fails with the events seen so far. */
    JobEvent await(String jobId, Predicate<JobEvent> p, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (JobEvent e : events(jobId)) {
                if (p.test(e)) {
                    return e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " of " + jobId + " not seen within " + timeout + "; events: " + summary(jobId));
    }

    JobEvent awaitStatus(String jobId, String status, Duration timeout) throws InterruptedException {
        return await(jobId, e -> e.type() == JobEventType.STATUS && e.status() != null
                && e.status().wire().equals(status), timeout, "status " + status);
    }

    /** Waits for a terminal or paused status event and returns it. */
    JobEvent awaitEnd(String jobId, Duration timeout) throws InterruptedException {
        return await(jobId, e -> e.type() == JobEventType.STATUS && e.status() != null
                && (e.status().isTerminal() || e.status().wire().equals("paused")), timeout, "a final status");
    }

    String summary(String jobId) {
        StringBuilder sb = new StringBuilder();
        for (JobEvent e : events(jobId)) {
            sb.append("\n  ").append(e.seq()).append(' ').append(e.type().wire())
                    .append(e.status() == null ? "" : " " + e.status().wire()).append(' ').append(e.data());
        }
        return sb.toString();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
