package io.peftfoundry.worker.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The worker's settings ({@code foundry.worker.*} in application.properties, each from a FOUNDRY_* variable). */
@ConfigMapping(prefix = "foundry.worker")
public interface WorkerConfig {

    /** This worker's id in leases and logs; default {@code <host>-<pid>}. */
    Optional<String> id();

    /** Runs of one job (first run, retries after a failure, takeovers after a lost worker) before it is failed. */
    @WithDefault("3")
    int maxAttempts();

    /** How long a lease lives without renewal; a dead worker's job is taken over this long after its last renewal. */
    @WithDefault("30s")
    Duration leaseTtl();

    /** How often a training worker renews its lease (well below the TTL). */
    @WithDefault("5s")
    Duration leaseRenewEvery();

    /**
     * How often an idle worker looks for claimable jobs that no wake-up announced (queued through another worker's
     * consumer, a dead worker's expired lease, a tenant back under its quota).
     */
    @WithDefault("500ms")
    Duration claimPollEvery();

    /** Base URL of artifact-store. */
    @WithDefault("http://127.0.0.1:8082")
    String artifactStoreUrl();

    /** The worker's API key for artifact-store (an admin key: it acts on behalf of each job's tenant). */
    Optional<String> apiKey();

    /** Root of the worker's local state; downloads are cached by digest under {@code worker-cache/}. */
    @WithDefault(".foundry/data")
    String dataDir();

    /** {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N} (peft-engine {@code Devices}): the device of every job. */
    @WithDefault("auto")
    String device();

    /**
     * Memory this worker offers to one job ({@code 6G}, {@code 512M}, bytes, or {@code auto}): it claims only jobs whose
     * estimated peak memory fits. {@code auto}: on a GPU the device's memory; on the CPU the machine's memory (or the
     * container's cgroup limit, if lower) less what this process holds when it advertises.
     */
    @WithDefault("auto")
    String memory();

    /** Model families ({@code model_type}) this worker loads; default every family peft-engine trains. */
    Optional<List<String>> families();

    /** How often the worker re-sends its capabilities on {@code foundry.workers} (job-api forgets silent workers). */
    @WithDefault("30s")
    Duration advertiseEvery();

    /**
     * Progress events (metrics, checkpoint, message) the producer could not deliver are kept in memory and sent again;
     * at most this many (about 1 KB each on the heap), beyond which the oldest metrics event is dropped. At one metrics
     * event every 5 s ({@link #metricsEvery()}) 10,000 cover a Kafka outage of about 14 hours; a job with very fast
     * steps sends one every 10 steps ({@link #metricsEverySteps()}) and fills them sooner.
     */
    @WithDefault("10000")
    int unsentEventsMax();

    /** How often kept progress events are sent again (a try lasts up to the producer's delivery timeout). */
    @WithDefault("5s")
    Duration unsentEventsRetryEvery();

    /** A metrics event at least every this many steps ... */
    @WithDefault("10")
    int metricsEverySteps();

    /** ... or this often, whichever comes first. */
    @WithDefault("5s")
    Duration metricsEvery();

    /** Whether this instance consumes job requests at all (off in the module's own service tests). */
    @WithDefault("true")
    boolean consume();

    /** Kafka consumer session timeout of the job-requests consumer (it only queues requests, it never trains). */
    @WithDefault("10000")
    int sessionTimeoutMs();
}
