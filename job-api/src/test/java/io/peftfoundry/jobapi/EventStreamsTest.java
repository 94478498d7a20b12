package io.peftfoundry.jobapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.event.JobEvent;
import io.peftfoundry.contracts.event.JobEventType;
import io.peftfoundry.contracts.event.JobStatus;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.peftfoundry.jobapi.support.Fixtures;
import io.peftfoundry.jobapi.support.TestTenants;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding 11, SSE: streams are pushed from the stored events, not polled — no thread per stream, one read per stored
 * event whatever the number of streams of the job — and a tenant holds at most {@code foundry.sse.max-streams-per-tenant}
 * (4 in tests) open at once: one more is refused with 429 problem+json, another tenant is not affected, and a slot
 * frees when a client leaves.
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class EventStreamsTest {

    private static final int CAP = 4;
    private static final long A1 = 1_000_000L;
    private static final Duration BOUND = Duration.ofSeconds(90);
    private static final Pattern READS = Pattern.compile("foundry_sse_reads_total(?:\\{[^}]*})? ([0-9.eE+]+)");

    @TestHTTPResource
    URL base;

    @Inject
    DataSource dataSource;

    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    /** One open stream as the client sees it: the ids of the frames received, and whether the server ended it. */
    private record Client(HttpResponse<InputStream> response, List<String> ids, CompletableFuture<Void> ended) {}

    @Test
    void streamsArePushedWithoutAThreadEachAndCappedPerTenant() throws Exception {
        TestTenants.ensure(dataSource);
        String job = insertQueuedJob(TestTenants.TENANT_A);
        String otherTenantsJob = insertQueuedJob(TestTenants.TENANT_B);

        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < CAP; i++) {
            clients.add(open(TestTenants.KEY_A, job));
        }
        // one more for the same tenant: refused before anything is streamed
        given().header("Authorization", "Bearer " + TestTenants.KEY_A).header("Accept", "text/event-stream")
                .get("/v1/fine_tuning/jobs/" + job + "/events").then().statusCode(429)
                .contentType(containsString("application/problem+json")).body("status", equalTo(429))
                .body("detail", containsString("already has " + CAP + " event streams open"));
        // the limit is per tenant
        Client other = open(TestTenants.KEY_B, otherTenantsJob);

        // the streams hold no thread each: the same three (two readers, one ticker) serve all five
        assertEquals(3, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("sse-")).count(), "threads serving streams");

        double readsBefore = reads();
        int events = 5;
        for (int n = 1; n <= events; n++) {
            long seq = A1 + n;
            Fixtures.publishEvents(mapper, bootstrap, List.of(new JobEvent(job, seq, JobEventType.METRICS, null,
                    Map.of("step", n, "total_steps", 10), Instant.now())));
            await().atMost(BOUND).until(() -> clients.stream().allMatch(c -> c.ids().contains(Long.toString(seq))));
        }
        // each stored event notifies once and is read once for all four streams of the job (plus at most two reads
        // left over from the streams' opening catch-up); polling would read per stream and per second
        double reads = reads() - readsBefore;
        assertTrue(reads >= 1 && reads <= events + 2, "reads for " + events + " events on " + CAP + " streams: " + reads);
        for (Client c : clients) {
            assertEquals(List.of("1000001", "1000002", "1000003", "1000004", "1000005"), c.ids(), "in order, once each");
        }

        // a client leaves: its slot frees (the ticker notices the closed connection), and a new stream is accepted
        clients.get(0).response().body().close();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(500)).until(() -> {
            try {
                Client again = open(TestTenants.KEY_A, job);
                clients.set(0, again);
                return true;
            } catch (AssertionError refused) {
                return false;
            }
        });

        // the terminal status ends every stream of the job
        Fixtures.publishEvents(mapper, bootstrap, List.of(new JobEvent(job, A1 + 6, JobEventType.STATUS,
                JobStatus.SUCCEEDED, Map.of("adapter_id", "adapter-" + job), Instant.now())));
        for (Client c : clients) {
            c.ended().get(BOUND.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(Long.toString(A1 + 6), c.ids().get(c.ids().size() - 1));
        }
        other.response().body().close();
    }

    /** Opens a stream and reads its frames in the background; fails (AssertionError) unless the answer is 200. */
    private Client open(String key, String jobId) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base.toString().replaceAll("/$", "")
                        + "/v1/fine_tuning/jobs/" + jobId + "/events"))
                .header("Authorization", "Bearer " + key).header("Accept", "text/event-stream").GET().build();
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close();
            throw new AssertionError("stream of " + jobId + ": HTTP " + response.statusCode());
        }
        List<String> ids = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> ended = CompletableFuture.runAsync(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("id:")) {
                        ids.add(line.substring(3).trim());
                    }
                }
            } catch (Exception e) {
                // closed by this side
            }
        });
        return new Client(response, ids, ended);
    }

    private String insertQueuedJob(String tenant) throws Exception {
        String jobId = "ftjob-" + UUID.randomUUID().toString().replace("-", "");
        JobSpec spec = JobSpec.of("minilm-l6-v2", "file-" + jobId);
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO jobs (id, tenant_id, status, spec, model, task, method_type, training_file) "
                        + "VALUES (?, ?, 'queued', ?::jsonb, ?, 'classification', 'lora', ?)")) {
            ps.setString(1, jobId);
            ps.setString(2, tenant);
            ps.setString(3, mapper.writeValueAsString(spec));
            ps.setString(4, spec.model());
            ps.setString(5, spec.trainingFile());
            ps.executeUpdate();
        }
        return jobId;
    }

    private static double reads() {
        Matcher m = READS.matcher(given().get("/q/metrics").then().statusCode(200).extract().asString());
        return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
    }
}
