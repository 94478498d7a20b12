package io.peftfoundry.jobapi.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.jobapi.config.JobApiConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The live event streams (SSE) of every job, pushed rather than polled. PostgreSQL notifies channel
 * {@value #CHANNEL} (a trigger on {@code job_events} and on terminal job statuses) whichever job-api instance stored the
 * event; one listener connection per instance hears it and schedules one read of the job's new events, which is
 * fanned out to every stream of that job (reads of one job coalesce while one is pending). Sends are asynchronous:
 * no thread per stream, no query while nothing happens. One ticker closes streams whose client left and writes a
 * keep-alive comment to idle ones. A tenant may hold {@code foundry.sse.max-streams-per-tenant} streams at once;
 * one more is refused ({@link TooManyStreams}, a 429).
 */
@ApplicationScoped
public class JobEventStreams {

    /** The PostgreSQL notification channel; the payload is the job id. */
    public static final String CHANNEL = "foundry_job_events";

    private static final Logger LOG = Logger.getLogger(JobEventStreams.class);
    private static final int BATCH = 200;
    /** A stream whose client reads this far behind is closed (it reconnects with Last-Event-ID). */
    private static final int MAX_UNSENT = 1_000;

    private final DataSource dataSource;
    private final MeterRegistry registry;
    private final int maxPerTenant;
    private final Duration keepAlive;
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final Map<String, Set<Stream>> byJob = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> perTenant = new ConcurrentHashMap<>();
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean running;
    private ExecutorService readers;
    private ScheduledExecutorService ticker;
    private Thread listener;

    /** The caller's tenant already holds the most streams allowed. */
    public static final class TooManyStreams extends RuntimeException {
        public TooManyStreams(String tenant, int max) {
            super("tenant " + tenant + " already has " + max + " event streams open (the limit): close one, or read"
                    + " GET /v1/fine_tuning/jobs/{id}/events?after=<last seq> instead");
        }
    }

    /** One client's stream: what it has been sent so far. */
    private static final class Stream {
        final String jobId;
        final String tenant;
        final SseEventSink sink;
        final Function<EventRow, OutboundSseEvent> format;
        final Sse sse;
        final AtomicInteger unsent = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();
        volatile long lastSeq;
        volatile long lastWrite = System.nanoTime();

        Stream(String jobId, String tenant, long fromSeq, SseEventSink sink, Sse sse,
               Function<EventRow, OutboundSseEvent> format) {
            this.jobId = jobId;
            this.tenant = tenant;
            this.lastSeq = fromSeq;
            this.sink = sink;
            this.sse = sse;
            this.format = format;
        }
    }

    public JobEventStreams(DataSource dataSource, MeterRegistry registry, JobApiConfig config,
                           @ConfigProperty(name = "quarkus.datasource.jdbc.url") String jdbcUrl,
                           @ConfigProperty(name = "quarkus.datasource.username") String user,
                           @ConfigProperty(name = "quarkus.datasource.password") String password) {
        this.dataSource = dataSource;
        this.registry = registry;
        this.maxPerTenant = config.sse().maxStreamsPerTenant();
        this.keepAlive = config.sse().keepAlive();
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    void onStart(@Observes StartupEvent event) {
        running = true;
        // two readers serve every stream; the queue holds at most one pending read per watched job
        readers = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> daemon(r, "sse-reader"));
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "sse-ticker"));
        t.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        ticker = t;
        listener = daemon(this::listen, "job-events-listener");
        listener.start();
        Gauge.builder("foundry.sse.streams", open, AtomicInteger::get).description("open SSE event streams")
                .register(registry);
    }

    void onStop(@Observes ShutdownEvent event) {
        running = false;
        if (ticker != null) {
            ticker.shutdownNow();
        }
        if (readers != null) {
            readers.shutdownNow();
        }
        byJob.values().forEach(streams -> streams.forEach(this::close));
    }

    /**
     * Opens a stream of the job's events after {@code fromSeq}: the stored ones at once, then each new one as it is
     * stored; the stream ends after a terminal status. Throws {@link TooManyStreams} before anything is sent when
     * the tenant is at its limit.
     */
    public void open(String tenant, String jobId, long fromSeq, SseEventSink sink, Sse sse,
                     Function<EventRow, OutboundSseEvent> format) {
        AtomicInteger count = perTenant.computeIfAbsent(tenant, k -> new AtomicInteger());
        if (count.incrementAndGet() > maxPerTenant) {
            count.decrementAndGet();
            registry.counter("foundry.sse.refused").increment();
            throw new TooManyStreams(tenant, maxPerTenant);
        }
        open.incrementAndGet();
        Stream stream = new Stream(jobId, tenant, fromSeq, sink, sse, format);
        byJob.compute(jobId, (k, streams) -> {
            Set<Stream> set = streams == null ? ConcurrentHashMap.newKeySet() : streams;
            set.add(stream);
            return set;
        });
        schedule(jobId);
    }

    /** Streams of the tenant open now. */
    public int openStreams(String tenant) {
        AtomicInteger n = perTenant.get(tenant);
        return n == null ? 0 : n.get();
    }

    /** New events of the job may be stored: one read serves all its streams. */
    public void schedule(String jobId) {
        if (!byJob.containsKey(jobId) || !running || !pending.add(jobId)) {
            return;
        }
        readers.execute(() -> {
            pending.remove(jobId);
            deliver(jobId);
        });
    }

    private void deliver(String jobId) {
        Set<Stream> streams = byJob.get(jobId);
        if (streams == null) {
            return;
        }
        synchronized (streams) {
            if (streams.isEmpty()) {
                return;
            }
            long from = streams.stream().mapToLong(s -> s.lastSeq).min().orElse(0);
            List<EventRow> rows;
            try {
                rows = read(jobId, from);
            } catch (SQLException e) {
                LOG.warnf("job %s: reading events for %d streams failed (%s); retried on the next signal", jobId,
                        streams.size(), e.toString());
                return;
            }
            for (Stream s : streams) {
                for (EventRow row : rows) {
                    if (row.seq() <= s.lastSeq || s.closed.get()) {
                        continue;
                    }
                    CompletionStage<?> sent = send(s, s.format.apply(row));
                    s.lastSeq = row.seq();
                    if (isTerminalStatus(row)) {
                        // the stream ends after the terminal event has gone out
                        sent.whenComplete((ok, failure) -> close(s));
                        break;
                    }
                }
            }
            if (rows.size() == BATCH) {
                schedule(jobId);
            } else if (rows.isEmpty() && jobFinished(jobId)) {
                // finished without a (further) terminal event, e.g. cancelled while queued
                streams.forEach(this::close);
            }
        }
    }

    private List<EventRow> read(String jobId, long afterSeq) throws SQLException {
        registry.counter("foundry.sse.reads").increment();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + EventRow.COLUMNS
                     + " FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?")) {
            ps.setString(1, jobId);
            ps.setLong(2, afterSeq);
            ps.setInt(3, BATCH);
            List<EventRow> rows = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(EventRow.read(rs));
                }
            }
            return rows;
        }
    }

    private boolean jobFinished(String jobId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT status FROM jobs WHERE id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return !rs.next() || JobStatus.fromWire(rs.getString(1)).isTerminal();
            }
        } catch (SQLException e) {
            return false;
        }
    }

    private CompletionStage<?> send(Stream s, OutboundSseEvent event) {
        if (s.unsent.incrementAndGet() > MAX_UNSENT) {
            LOG.infof("job %s: SSE client more than %d events behind: stream closed (it may reconnect with"
                    + " Last-Event-ID)", s.jobId, MAX_UNSENT);
            close(s);
            return CompletableFuture.completedFuture(null);
        }
        s.lastWrite = System.nanoTime();
        return s.sink.send(event).whenComplete((ok, failure) -> {
            s.unsent.decrementAndGet();
            if (failure != null) {
                close(s);
            }
        });
    }

    private void close(Stream s) {
        if (!s.closed.compareAndSet(false, true)) {
            return;
        }
        byJob.computeIfPresent(s.jobId, (k, streams) -> {
            streams.remove(s);
            return streams.isEmpty() ? null : streams;
        });
        perTenant.computeIfPresent(s.tenant, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
        open.decrementAndGet();
        try {
            s.sink.close();
        } catch (Exception e) {
            LOG.debugf("job %s: closing an SSE stream: %s", s.jobId, e.toString());
        }
    }

    /** Every second: drop streams whose client left; keep idle ones alive through proxies. No query. */
    private void tick() {
        long now = System.nanoTime();
        for (Set<Stream> streams : byJob.values()) {
            for (Stream s : streams) {
                if (s.sink.isClosed()) {
                    close(s);
                } else if (now - s.lastWrite > keepAlive.toNanos()) {
                    send(s, s.sse.newEventBuilder().comment("keep-alive").build());
                }
            }
        }
    }

    /** LISTENs on {@value #CHANNEL} over its own connection; after a reconnect every watched job is read once. */
    private void listen() {
        long backoff = 250;
        while (running) {
            try (Connection c = DriverManager.getConnection(jdbcUrl, user, password)) {
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + CHANNEL);
                }
                backoff = 250;
                byJob.keySet().forEach(this::schedule); // whatever was stored while we were not listening
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notes = pg.getNotifications(1_000);
                    if (notes != null) {
                        for (PGNotification n : notes) {
                            schedule(n.getParameter());
                        }
                    }
                }
            } catch (SQLException e) {
                if (!running) {
                    return;
                }
                LOG.warnf("SSE listener: %s; reconnecting in %d ms", e.toString(), backoff);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(5_000, backoff * 2);
            }
        }
    }

    private static boolean isTerminalStatus(EventRow e) {
        return "status".equals(e.type()) && e.status() != null && JobStatus.fromWire(e.status()).isTerminal();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
