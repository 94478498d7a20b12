package io.peftfoundry.devstack.kafka;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The platform's topics and their partition counts. The names match
 * {@code io.peftfoundry.contracts.Topics}; devstack keeps its own list so that it does not depend on
 * the services' code.
 */
public final class KafkaTopics {

    public static final String DLQ_SUFFIX = ".dlq";

    private static final Map<String, Integer> TOPICS;

    static {
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put("foundry.jobs.requested", 4); // spreads the queueing of requests; workers claim from PostgreSQL
        topics.put("foundry.jobs.control", 1);
        topics.put("foundry.jobs.events", 4);
        topics.put("foundry.eval.results", 1);
        topics.put("foundry.tenants.quotas", 1);
        topics.put("foundry.workers", 1); // worker capabilities (device, memory, families), key: worker id
        Map<String, Integer> all = new LinkedHashMap<>(topics);
        topics.keySet().forEach(t -> all.put(t + DLQ_SUFFIX, 1));
        TOPICS = Collections.unmodifiableMap(all);
    }

    private KafkaTopics() {
    }

    /** Topic name to partition count, main topics first, then their dead-letter topics. */
    public static Map<String, Integer> all() {
        return TOPICS;
    }

    public static List<String> names() {
        return new ArrayList<>(TOPICS.keySet());
    }
}
