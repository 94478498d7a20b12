package io.peftfoundry.contracts;

import java.util.List;

/** Kafka topic names. Message keys are job ids, so the messages of one job stay in order. */
public final class Topics {

    /** {@code JobRequested}: job-api (outbox relay) → trainer-worker. */
    public static final String JOBS_REQUESTED = "foundry.jobs.requested";
    /** {@code JobControl}: job-api → trainer-worker. */
    public static final String JOBS_CONTROL = "foundry.jobs.control";
    /** {@code JobEvent}: trainer-worker → job-api, eval-service, web-console. */
    public static final String JOBS_EVENTS = "foundry.jobs.events";
    /** {@code EvaluationCompleted}: eval-service → job-api, web-console. */
    public static final String EVAL_RESULTS = "foundry.eval.results";

    /** Suffix of the dead-letter topic that receives what a consumer of the main topic could not process. */
    public static final String DLQ_SUFFIX = ".dlq";

    /** Partitions of {@link #JOBS_REQUESTED}: at most this many trainer workers share the job requests. */
    public static final int JOBS_REQUESTED_PARTITIONS = 4;

    /** Replication factor of every topic (one broker in devstack). */
    public static final short REPLICATION_FACTOR = 1;

    private Topics() {
    }

    /** The dead-letter topic of {@code topic}, e.g. {@code foundry.jobs.events.dlq}. */
    public static String dlq(String topic) {
        return topic + DLQ_SUFFIX;
    }

    /** The four main topics. */
    public static List<String> main() {
        return List.of(JOBS_REQUESTED, JOBS_CONTROL, JOBS_EVENTS, EVAL_RESULTS);
    }

    /** The four main topics followed by their dead-letter topics. */
    public static List<String> all() {
        return List.of(JOBS_REQUESTED, JOBS_CONTROL, JOBS_EVENTS, EVAL_RESULTS,
                dlq(JOBS_REQUESTED), dlq(JOBS_CONTROL), dlq(JOBS_EVENTS), dlq(EVAL_RESULTS));
    }
}
