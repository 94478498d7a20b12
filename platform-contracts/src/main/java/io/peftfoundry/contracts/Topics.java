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
    /** {@code TenantQuota}: job-api (admin) → trainer-worker; key: tenant id. */
    public static final String TENANT_QUOTAS = "foundry.tenants.quotas";
    /** {@code WorkerCapabilities}: trainer-worker → job-api; key: worker id (device, memory, model families). */
    public static final String WORKERS = "foundry.workers";

    /** Suffix of the dead-letter topic that receives what a consumer of the main topic could not process. */
    public static final String DLQ_SUFFIX = ".dlq";

    /**
     * Partitions of {@link #JOBS_REQUESTED}. Workers claim jobs from a queue in PostgreSQL, so this no longer bounds
     * the number of trainer workers: it only spreads the (fast) queueing of requests over a few consumers.
     */
    public static final int JOBS_REQUESTED_PARTITIONS = 4;

    /** Replication factor of every topic (one broker in devstack). */
    public static final short REPLICATION_FACTOR = 1;

    private Topics() {
    }

    /** The dead-letter topic of {@code topic}, e.g. {@code foundry.jobs.events.dlq}. */
    public static String dlq(String topic) {
        return topic + DLQ_SUFFIX;
    }

    /** The six main topics. */
    public static List<String> main() {
        return List.of(JOBS_REQUESTED, JOBS_CONTROL, JOBS_EVENTS, EVAL_RESULTS, TENANT_QUOTAS, WORKERS);
    }

    /** The six main topics followed by their dead-letter topics. */
    public static List<String> all() {
        return List.of(JOBS_REQUESTED, JOBS_CONTROL, JOBS_EVENTS, EVAL_RESULTS, TENANT_QUOTAS, WORKERS,
                dlq(JOBS_REQUESTED), dlq(JOBS_CONTROL), dlq(JOBS_EVENTS), dlq(EVAL_RESULTS), dlq(TENANT_QUOTAS),
                dlq(WORKERS));
    }
}
