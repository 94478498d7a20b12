import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sustained POST /v1/fine_tuning/jobs load against a running job-api: CONCURRENCY closed-loop clients for WARMUP then
 * DURATION seconds, counting only 201s in the measured window; then waits until the outbox has published everything
 * (foundry_outbox_unsent == 0 on /q/metrics), so the rate reported is of durably queued and published jobs.
 *
 * java PostThroughput.java URL KEY MODEL TRAINING_FILE [DURATION_S=30] [CONCURRENCY=16] [WARMUP_S=5]
 */
public class PostThroughput {

    private static final Pattern UNSENT = Pattern.compile("(?m)^foundry_outbox_unsent(?:\\{[^}]*})? ([0-9.eE+]+)");

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String key = args[1];
        String body = "{\"model\":\"" + args[2] + "\",\"training_file\":\"" + args[3] + "\"}";
        int duration = args.length > 4 ? Integer.parseInt(args[4]) : 30;
        int concurrency = args.length > 5 ? Integer.parseInt(args[5]) : 16;
        int warmup = args.length > 6 ? Integer.parseInt(args[6]) : 5;

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/v1/fine_tuning/jobs"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build();

        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
        long measureTo = measureFrom + TimeUnit.SECONDS.toNanos(duration);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<long[]> latencies = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        for (int i = 0; i < concurrency; i++) {
            long[] mine = new long[200_000];
            latencies.add(mine);
            pool.submit(() -> {
                int n = 0;
                while (System.nanoTime() < measureTo) {
                    long t0 = System.nanoTime();
                    int status;
                    try {
                        status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                    } catch (Exception e) {
                        status = -1;
                    }
                    long t1 = System.nanoTime();
                    if (t0 >= measureFrom && t1 <= measureTo) {
                        if (status == 201) {
                            ok.incrementAndGet();
                            if (n < mine.length) {
                                mine[n++] = t1 - t0;
                            }
                        } else {
                            failed.incrementAndGet();
                        }
                    }
                }
                mine[mine.length - 1] = n; // count in the last slot
                return null;
            });
        }
        pool.shutdown();
        pool.awaitTermination(duration + warmup + 120L, TimeUnit.SECONDS);
        long end = System.nanoTime();

        // the outbox drains: every accepted job published to Kafka
        double unsent;
        long drainStart = System.nanoTime();
        do {
            String metrics = http.send(HttpRequest.newBuilder(URI.create(url + "/q/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = UNSENT.matcher(metrics);
            unsent = m.find() ? Double.parseDouble(m.group(1)) : -1;
            if (unsent != 0) {
                Thread.sleep(200);
            }
        } while (unsent != 0 && System.nanoTime() - drainStart < TimeUnit.SECONDS.toNanos(300));
        double drainSeconds = (System.nanoTime() - drainStart) / 1e9;

        int total = 0;
        for (long[] l : latencies) {
            total += (int) l[l.length - 1];
        }
        long[] all = new long[total];
        int p = 0;
        for (long[] l : latencies) {
            int n = (int) l[l.length - 1];
            System.arraycopy(l, 0, all, p, n);
            p += n;
        }
        Arrays.sort(all);
        double rate = ok.get() / (double) duration;
        // latency_samples: the 201s whose latency was kept (all of them unless a client exceeded 200,000)
        System.out.printf("concurrency=%d duration_s=%d accepted=%d failed=%d rate_per_s=%.1f latency_samples=%d "
                        + "p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f "
                        + "outbox_drain_s=%.1f (unsent gauge is refreshed once a second) unsent_after=%s%n",
                concurrency, duration, ok.get(), failed.get(), rate, all.length, pct(all, 0.50), pct(all, 0.95),
                pct(all, 0.99), all.length == 0 ? Double.NaN : all[all.length - 1] / 1e6, drainSeconds,
                unsent < 0 ? "gauge missing" : Long.toString((long) unsent));
        System.exit(0);
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e6;
    }
}
