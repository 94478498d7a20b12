import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SSE fan-out of job-api: WATCHERS clients stream {@code GET /v1/fine_tuning/jobs/{id}/events} of JOBS jobs (spread
 * evenly) while this program plays a trainer worker for each job on Kafka ({@code foundry.jobs.events}): a
 * {@code running} status event, EVENTS metrics events paced at RATE per second in all, then {@code succeeded}. The path
 * measured is the product's: Kafka → job-api's consumer → job_events row → PostgreSQL NOTIFY → one read → every stream.
 *
 * <p>Delay = a watcher's receipt of an event (its {@code data:} line read) − the moment this program handed the event
 * to the Kafka producer (after a warm-up job's event has shown that job-api's consumer reads); both clocks are this JVM's {@code System.nanoTime()}. Each watcher must receive every event of
 * its job exactly once, in seq order, and see the stream end after {@code succeeded}. job-api's heap (used, from
 * {@code /q/metrics}) is sampled every 250 ms; its CPU time comes from {@code /proc/PID/stat}.
 *
 * <pre>java -cp KAFKA_CLIENTS:SLF4J SseFanOut.java URL KEY MODEL TRAINING_FILE KAFKA JOB_API_PID WATCHERS JOBS EVENTS RATE</pre>
 * Prints one {@code key=value} line.
 */
public class SseFanOut {

    private static final Pattern HEAP = Pattern.compile("(?m)^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*} ([0-9.eE+]+)");
    private static final Pattern STREAMS = Pattern.compile("(?m)^foundry_sse_streams(?:\\{[^}]*})? ([0-9.eE+]+)");
    private static final Pattern JOB_ID = Pattern.compile("\"id\"\\s*:\\s*\"(ftjob-[^\"]+)\"");

    /** One watcher: the seqs it received in order and when. */
    static final class Watcher {
        final String jobId;
        final long[] seqs;
        final long[] receivedAt;
        int n;
        volatile boolean ended;   // the server closed the stream
        volatile String error;
        volatile int status;

        Watcher(String jobId, int capacity) {
            this.jobId = jobId;
            this.seqs = new long[capacity];
            this.receivedAt = new long[capacity];
        }
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String key = args[1];
        String body = "{\"model\":\"" + args[2] + "\",\"training_file\":\"" + args[3] + "\"}";
        String kafka = args[4];
        long jobApiPid = Long.parseLong(args[5]);
        int watchers = Integer.parseInt(args[6]);
        int jobCount = Integer.parseInt(args[7]);
        int events = Integer.parseInt(args[8]);
        double rate = Double.parseDouble(args[9]);
        int perJob = events + 2; // running, EVENTS metrics, succeeded

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<String> jobs = new ArrayList<>();
        for (int j = 0; j < jobCount; j++) {
            jobs.add(post(http, url, key, body));
        }

        // job-api's Kafka consumer has joined its group and reads events (a fresh job-api can take seconds): a
        // warm-up job's running event must show in its status before the measured events go out
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        String warm = post(http, url, key, body);
        producer.send(new ProducerRecord<>("foundry.jobs.events", warm, event(warm, 1, 1))).get();
        long warmFrom = System.nanoTime();
        String warmStatus = "";
        while (!warmStatus.contains("\"status\":\"running\"") && System.nanoTime() - warmFrom < TimeUnit.SECONDS.toNanos(180)) {
            Thread.sleep(200);
            warmStatus = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/fine_tuning/jobs/" + warm))
                    .header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
        double consumerReadyS = (System.nanoTime() - warmFrom) / 1e9;

        // the watchers: one thread each reading its stream line by line
        Watcher[] ws = new Watcher[watchers];
        CountDownLatch done = new CountDownLatch(watchers);
        for (int i = 0; i < watchers; i++) {
            Watcher w = new Watcher(jobs.get(i % jobCount), perJob + 16);
            ws[i] = w;
            Thread t = new Thread(() -> {
                try {
                    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(
                                    URI.create(url + "/v1/fine_tuning/jobs/" + w.jobId + "/events"))
                            .header("Authorization", "Bearer " + key).header("Accept", "text/event-stream").GET().build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    w.status = r.statusCode();
                    if (w.status != 200) {
                        w.error = "HTTP " + w.status + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
                        return;
                    }
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                        long seq = -1;
                        String line;
                        while ((line = in.readLine()) != null) {
                            if (line.startsWith("id:")) {
                                seq = Long.parseLong(line.substring(3).trim());
                            } else if (line.startsWith("data:") && seq >= 0) {
                                long now = System.nanoTime();
                                if (w.n < w.seqs.length) {
                                    w.seqs[w.n] = seq;
                                    w.receivedAt[w.n] = now;
                                }
                                w.n++;
                                seq = -1;
                            }
                        }
                        w.ended = true;
                    }
                } catch (Exception e) {
                    w.error = e.toString();
                } finally {
                    done.countDown();
                }
            }, "watcher-" + i);
            t.setDaemon(true);
            t.start();
        }
        // every stream registered in job-api before the first event
        long waitFrom = System.nanoTime();
        double open = 0;
        while (System.nanoTime() - waitFrom < TimeUnit.SECONDS.toNanos(120)) {
            open = metric(http, url, STREAMS);
            if (open >= watchers) {
                break;
            }
            Thread.sleep(100);
        }
        double connectS = (System.nanoTime() - waitFrom) / 1e9;

        // job-api's heap while it streams
        AtomicLong heapMax = new AtomicLong();
        double heapBefore = metric(http, url, HEAP);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    heapMax.accumulateAndGet((long) metric(http, url, HEAP), Math::max);
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // a missed sample
                }
            }
        }, "heap-sampler");
        sampler.setDaemon(true);
        sampler.start();

        // the "worker": events of every job in turn, paced
        long[][] sentAt = new long[jobCount][perJob + 1];
        double cpu0 = cpuSeconds(jobApiPid);
        long start = System.nanoTime();
        try (producer) {
            long interval = (long) (1e9 / rate);
            long next = System.nanoTime();
            for (int seq = 1; seq <= perJob; seq++) {
                for (int j = 0; j < jobCount; j++) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    next += interval;
                    String json = event(jobs.get(j), seq, events);
                    sentAt[j][seq] = System.nanoTime();
                    producer.send(new ProducerRecord<>("foundry.jobs.events", jobs.get(j), json));
                }
            }
            producer.flush();
        }
        boolean allEnded = done.await(120, TimeUnit.SECONDS);
        double wallS = (System.nanoTime() - start) / 1e9;
        double cpu1 = cpuSeconds(jobApiPid);
        sampler.interrupt();

        // per watcher: every seq 1..perJob once, in order; delays from the send
        long[] delays = new long[watchers * perJob];
        int d = 0;
        int complete = 0;
        int inOrder = 0;
        int ended = 0;
        List<String> problems = new ArrayList<>();
        StringBuilder bySeq = new StringBuilder("watcher seq delay_ms\n");
        for (int i = 0; i < watchers; i++) {
            Watcher w = ws[i];
            int j = jobs.indexOf(w.jobId);
            boolean ordered = true;
            for (int k = 1; k < Math.min(w.n, w.seqs.length); k++) {
                ordered &= w.seqs[k] > w.seqs[k - 1];
            }
            boolean all = w.n == perJob;
            for (int k = 0; k < Math.min(w.n, w.seqs.length) && all; k++) {
                all = w.seqs[k] == k + 1;
            }
            if (all) {
                complete++;
            }
            if (ordered) {
                inOrder++;
            }
            if (w.ended) {
                ended++;
            }
            if ((!all || !ordered || !w.ended) && problems.size() < 5) {
                problems.add("watcher " + i + " (job " + w.jobId + "): " + w.n + " events, in order " + ordered
                        + ", ended " + w.ended + (w.error == null ? "" : ", error " + w.error));
            }
            for (int k = 0; k < Math.min(w.n, w.seqs.length); k++) {
                long s = w.seqs[k];
                if (s >= 1 && s <= perJob && sentAt[j][(int) s] != 0) {
                    delays[d++] = w.receivedAt[k] - sentAt[j][(int) s];
                    bySeq.append(i).append(' ').append(s).append(' ').append(delays[d - 1] / 1e6).append('\n');
                }
            }
        }
        long[] all = Arrays.copyOf(delays, d);
        Arrays.sort(all);
        Files.writeString(Path.of(System.getProperty("delays.out", "/dev/null")), bySeq);
        problems.forEach(p -> System.err.println("[sse] " + p));
        System.out.printf("consumer_ready_s=%.1f watchers=%d jobs=%d events_per_job=%d rate_per_s=%.1f streams_open=%.0f connect_s=%.1f "
                        + "deliveries=%d expected=%d watchers_complete=%d watchers_in_order=%d watchers_ended=%d "
                        + "all_ended_in_time=%s delay_p50_ms=%.1f delay_p95_ms=%.1f delay_p99_ms=%.1f delay_max_ms=%.1f "
                        + "delay_min_ms=%.1f heap_before_mib=%.0f heap_max_mib=%.0f job_api_cpu_s=%.2f wall_s=%.1f "
                        + "job_api_cpu_pct=%.0f%n",
                consumerReadyS, watchers, jobCount, perJob, rate, open, connectS, d, (long) watchers * perJob, complete, inOrder, ended,
                allEnded, pct(all, 0.50), pct(all, 0.95), pct(all, 0.99), all.length == 0 ? Double.NaN : all[all.length - 1] / 1e6,
                all.length == 0 ? Double.NaN : all[0] / 1e6, heapBefore / (1 << 20), heapMax.get() / (double) (1 << 20),
                cpu1 - cpu0, wallS, 100 * (cpu1 - cpu0) / wallS);
        System.exit(0);
    }

    /** A worker's event as JSON (JobEvent in platform-contracts): running, metrics steps, succeeded. */
    private static String event(String jobId, int seq, int steps) {
        String at = Instant.now().toString();
        if (seq == 1) {
            return "{\"job_id\":\"" + jobId + "\",\"seq\":1,\"type\":\"status\",\"status\":\"running\",\"data\":{},\"at\":\"" + at + "\"}";
        }
        int step = seq - 1;
        if (step <= steps) {
            return "{\"job_id\":\"" + jobId + "\",\"seq\":" + seq + ",\"type\":\"metrics\",\"status\":null,\"data\":{\"step\":"
                    + step + ",\"total_steps\":" + steps + ",\"loss\":" + (2.0 / step) + "},\"at\":\"" + at + "\"}";
        }
        return "{\"job_id\":\"" + jobId + "\",\"seq\":" + seq + ",\"type\":\"status\",\"status\":\"succeeded\",\"data\":{\"step\":"
                + steps + ",\"total_steps\":" + steps + "},\"at\":\"" + at + "\"}";
    }

    private static double metric(HttpClient http, String url, Pattern p) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create(url + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = p.matcher(text);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    private static double cpuSeconds(long pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll(".*\\) ", "").trim().split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime + stime, USER_HZ 100
    }

    private static String post(HttpClient http, String url, String key, String body) throws Exception {
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/fine_tuning/jobs"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = JOB_ID.matcher(created.body());
        if (created.statusCode() != 201 || !m.find()) {
            throw new IllegalStateException("POST job: " + created.statusCode() + " " + created.body());
        }
        return m.group(1);
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e6;
    }
}
