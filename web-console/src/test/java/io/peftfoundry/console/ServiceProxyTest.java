package io.peftfoundry.console;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import com.sun.net.httpserver.HttpServer;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy from the browser's /api/… paths to the services (a stub stands in for them: see UpstreamStub). */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = UpstreamStub.class, scope = TestResourceScope.GLOBAL)
class ServiceProxyTest {

    @Test
    void forwardsMethodPathQueryAndTheApiKey() {
        given().header("Authorization", "Bearer sk-test-123")
                .get("/api/jobs/v1/fine_tuning/jobs?limit=5&after=ftjob-1")
                .then().statusCode(200)
                .header("X-Upstream", "stub")
                .body("method", equalTo("GET"))
                .body("path", equalTo("/job-api/v1/fine_tuning/jobs"))
                .body("query", equalTo("limit=5&after=ftjob-1"))
                .body("authorization", equalTo("Bearer sk-test-123"))
                .body("body_length", equalTo(0));
    }

    @Test
    void forwardsPostBodiesAndTheIdempotencyKey() {
        String spec = "{\"model\":\"minilm-l6-v2\",\"training_file\":\"file-1\"}";
        given().header("Authorization", "Bearer k").header("Idempotency-Key", "idem-42")
                .contentType("application/json").body(spec)
                .post("/api/jobs/v1/fine_tuning/jobs")
                .then().statusCode(200)
                .body("method", equalTo("POST"))
                .body("idempotency_key", equalTo("idem-42"))
                .body("content_type", equalTo("application/json"))
                .body("body", equalTo(spec))
                .body("body_length", equalTo(spec.getBytes(StandardCharsets.UTF_8).length));
    }

    @Test
    void forwardsMultipartUploadsByteForByte() {
        // 300 KB: larger than one network buffer, so the body really streams through
        byte[] data = "{\"text\":\"a\",\"label\":\"x\"}\n".repeat(12_000).getBytes(StandardCharsets.UTF_8);
        Response r = given().header("Authorization", "Bearer k")
                .multiPart("purpose", "fine-tune")
                .multiPart("file", "train.jsonl", data, "application/jsonl")
                .post("/api/artifacts/v1/files");
        r.then().statusCode(200)
                .body("path", equalTo("/artifact-store/v1/files"))
                .body("content_type", containsString("multipart/form-data; boundary="))
                .body("body", containsString("name=\"purpose\""));
        int bodyLength = r.jsonPath().getInt("body_length");
        // the multipart body is the file plus its part headers and boundaries: a little more than the file
        assertEquals(true, bodyLength > data.length && bodyLength < data.length + 1024, "body length " + bodyLength);
    }

    @Test
    void passesErrorStatusesThrough() {
        given().get("/api/artifacts/v1/models/missing").then().statusCode(404)
                .contentType("application/problem+json")
                .body("authorization", nullValue());
    }

    @Test
    void streamsServerSentEventsWithLastEventId() {
        String body = given().header("Authorization", "Bearer k").header("Accept", "text/event-stream")
                .header("Last-Event-ID", "1")
                .get("/api/jobs/v1/fine_tuning/jobs/ftjob-1/events")
                .then().statusCode(200).contentType(containsString("text/event-stream"))
                .extract().asString();
        assertEquals("id: 2\nevent: metrics\ndata: {\"after\":\"1\",\"step\":2}\n\n"
                + "id: 3\nevent: status\ndata: {\"status\":\"succeeded\"}\n\n", body);
    }

    @Test
    void aServiceThatDoesNotAnswerIsA502ProblemNamingIt() {
        given().get("/api/evals/v1/leaderboard").then().statusCode(502)
                .contentType("application/problem+json")
                .body("status", equalTo(502))
                .body("service", equalTo("eval-service"))
                .body("detail", containsString("eval-service at http://127.0.0.1:"));
    }

    /**
     * Issue 14 finding 1: a request line in absolute form whose authority smuggles a host must not move the upstream to
     * that host (the key in Authorization would go with it); the path the console forwards is the parsed one.
     */
    @Test
    void anAbsoluteFormRequestLineCannotPointTheProxyAtAnotherHost() throws Exception {
        AtomicInteger evilHits = new AtomicInteger();
        HttpServer evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        evil.createContext("/", ex -> {
            evilHits.incrementAndGet();
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        evil.start();
        try {
            int evilPort = evil.getAddress().getPort();
            for (String userinfo : List.of("x", "xx", "xxx", "127.0.0.1:1")) {
                String answer = rawRequest("GET http://" + userinfo + "@127.0.0.1:" + evilPort
                        + "/api/jobs/v1/fine_tuning/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Authorization: Bearer sk-secret\r\nConnection: close\r\n\r\n");
                String statusLine = answer.lines().findFirst().orElse("");
                if (statusLine.contains(" 200 ")) {
                    assertTrue(answer.contains("\"path\":\"/job-api/v1/fine_tuning/jobs\""),
                            "forwarded to the configured job-api with the parsed path: " + answer);
                } else {
                    assertTrue(statusLine.matches("HTTP/1.1 4\\d\\d .*"), "refused as a client error: " + statusLine);
                }
            }
            assertEquals(0, evilHits.get(), "no request reached the host named in the request line");
        } finally {
            evil.stop(0);
        }
    }

    /** Issue 14 finding 1: the services' /q/* (metrics list every tenant's job ids) stay internal, however spelled. */
    @Test
    void servicesInternalEndpointsAreNotProxied() {
        for (String path : List.of("/api/jobs/q/metrics", "/api/artifacts/q/health", "/api/jobs/v1/../q/metrics",
                "/api/jobs/%71/metrics", "/api/jobs/", "/api/jobs/openapi")) {
            given().header("Authorization", "Bearer k").urlEncodingEnabled(false).get(path)
                    .then().statusCode(404)
                    .contentType("application/problem+json")
                    .header("X-Upstream", nullValue());
        }
    }

    private static String rawRequest(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
