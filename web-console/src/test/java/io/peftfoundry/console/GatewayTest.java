package io.peftfoundry.console;

import io.peftfoundry.console.proxy.GatewayRoutes;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public API gateway: {@code /v1/…} on the console's port goes, unchanged, to the service that owns it (the
 * services are the echoing UpstreamStub here: job-api at /job-api, artifact-store at /artifact-store, eval-service a
 * closed port). The official OpenAI clients against the real platform are web-console/e2e/sdk (./foundry test).
 */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = UpstreamStub.class, scope = TestResourceScope.GLOBAL)
class GatewayTest {

    @Test
    void routeTableSendsEachApiToItsService() {
        assertEquals(Optional.of("job-api"), GatewayRoutes.serviceFor("POST", "/v1/fine_tuning/jobs"));
        assertEquals(Optional.of("job-api"), GatewayRoutes.serviceFor("GET", "/v1/fine_tuning/jobs/ftjob-1/checkpoints"));
        assertEquals(Optional.of("job-api"), GatewayRoutes.serviceFor("POST", "/v1/sweeps"));
        assertEquals(Optional.of("job-api"), GatewayRoutes.serviceFor("GET", "/v1/auth/whoami"));
        assertEquals(Optional.of("artifact-store"), GatewayRoutes.serviceFor("POST", "/v1/files"));
        assertEquals(Optional.of("artifact-store"), GatewayRoutes.serviceFor("GET", "/v1/files/file-1/content"));
        assertEquals(Optional.of("artifact-store"), GatewayRoutes.serviceFor("GET", "/v1/adapters/adapter-1"));
        assertEquals(Optional.of("eval-service"), GatewayRoutes.serviceFor("GET", "/v1/models"));
        assertEquals(Optional.of("artifact-store"), GatewayRoutes.serviceFor("GET", "/v1/models/minilm-l6-v2"));
        assertEquals(Optional.of("artifact-store"), GatewayRoutes.serviceFor("POST", "/v1/models"));
        assertEquals(Optional.of("eval-service"), GatewayRoutes.serviceFor("POST", "/v1/chat/completions"));
        assertEquals(Optional.of("eval-service"), GatewayRoutes.serviceFor("POST", "/v1/completions"));
        assertEquals(Optional.of("eval-service"), GatewayRoutes.serviceFor("GET", "/v1/evaluations/eval-1"));
        assertEquals(Optional.of("eval-service"), GatewayRoutes.serviceFor("GET", "/v1/comparisons/ftjob-1"));
        assertEquals(Optional.of("eval-service"), GatewayRoutes.serviceFor("GET", "/v1/leaderboard"));
        for (String unknown : List.of("/v1/filesx", "/v1/chat", "/v1/chat/completions/x", "/v1/q/metrics", "/q/metrics",
                "/v1/", "/v2/files")) {
            assertEquals(Optional.empty(), GatewayRoutes.serviceFor("GET", unknown), unknown);
        }
    }

    @Test
    void forwardsPathQueryBodyAndTheKeyUnchanged() {
        given().header("Authorization", "Bearer sk-team").get("/v1/fine_tuning/jobs?limit=2&after=ftjob-9").then()
                .statusCode(200).header("X-Upstream", "stub")
                .body("path", equalTo("/job-api/v1/fine_tuning/jobs"))
                .body("query", equalTo("limit=2&after=ftjob-9"))
                .body("authorization", equalTo("Bearer sk-team"));
        String spec = "{\"model\":\"minilm-l6-v2\",\"training_file\":\"file-1\"}";
        given().header("Authorization", "Bearer sk-team").header("Idempotency-Key", "k-1").contentType("application/json")
                .body(spec).post("/v1/fine_tuning/jobs").then().statusCode(200)
                .body("method", equalTo("POST")).body("body", equalTo(spec)).body("idempotency_key", equalTo("k-1"));
        given().header("Authorization", "Bearer sk-team").get("/v1/models/minilm-l6-v2").then().statusCode(200)
                .body("path", equalTo("/artifact-store/v1/models/minilm-l6-v2"));
    }

    @Test
    void multipartUploadsStreamThroughToArtifactStore() {
        byte[] data = "{\"text\":\"a\",\"label\":\"x\"}\n".repeat(12_000).getBytes(StandardCharsets.UTF_8);
        Response r = given().header("Authorization", "Bearer k").multiPart("purpose", "fine-tune")
                .multiPart("file", "train.jsonl", data, "application/jsonl").post("/v1/files");
        r.then().statusCode(200).body("path", equalTo("/artifact-store/v1/files"))
                .body("content_type", containsString("multipart/form-data; boundary="));
        int bodyLength = r.jsonPath().getInt("body_length");
        assertTrue(bodyLength > data.length && bodyLength < data.length + 1024, "body length " + bodyLength);
    }

    @Test
    void jobEventStreamsPassThroughAsServerSentEvents() {
        String body = given().header("Authorization", "Bearer k").header("Accept", "text/event-stream")
                .header("Last-Event-ID", "1").get("/v1/fine_tuning/jobs/ftjob-1/events")
                .then().statusCode(200).contentType(containsString("text/event-stream")).extract().asString();
        assertEquals("id: 2\nevent: metrics\ndata: {\"after\":\"1\",\"step\":2}\n\n"
                + "id: 3\nevent: status\ndata: {\"status\":\"succeeded\"}\n\n", body);
    }

    /** The gateway's own errors carry OpenAI's error object beside the problem, like the services' errors. */
    @Test
    void unknownApisAndInternalPathsAre404InOpenAisShape() {
        for (String path : List.of("/v1/nothing", "/v1/q/metrics", "/v1/%71/metrics", "/v1/files/../q/metrics")) {
            given().header("Authorization", "Bearer k").urlEncodingEnabled(false).get(path).then().statusCode(404)
                    .header("X-Upstream", nullValue());
        }
        for (String path : List.of("/v1/nothing", "/v1/q/metrics", "/v1/%71/metrics")) {
            given().header("Authorization", "Bearer k").urlEncodingEnabled(false).get(path).then().statusCode(404)
                    .contentType("application/problem+json")
                    .body("error.type", equalTo("invalid_request_error")).body("error.code", equalTo("not_found"));
        }
        // dot segments are resolved before routing: /v1/../q/metrics is the console's own /q/metrics, never a service's
        given().urlEncodingEnabled(false).get("/v1/../q/metrics").then().header("X-Upstream", nullValue());
    }

    @Test
    void aServiceThatDoesNotAnswerIsA502InOpenAisShape() {
        given().header("Authorization", "Bearer k").contentType("application/json").body("{\"model\":\"m\"}")
                .post("/v1/chat/completions").then().statusCode(502)
                .body("service", equalTo("eval-service"))
                .body("error.type", equalTo("server_error"))
                .body("error.message", containsString("eval-service at http://127.0.0.1:"));
    }

    /**
     * The console's own /q/metrics names gateway and proxy requests by route, never by path: paths carry other tenants'
     * job and file ids, and a series per distinct path would grow without bound.
     */
    @Test
    void metricsNameGatewayRequestsByRouteNotByTheirIds() {
        given().header("Authorization", "Bearer k").get("/v1/fine_tuning/jobs/ftjob-tenantsecret1/events").then().statusCode(200);
        given().header("Authorization", "Bearer k").get("/api/artifacts/v1/files/file-tenantsecret2").then().statusCode(200);
        given().header("Authorization", "Bearer k").get("/v1/nothing-here-tenantsecret3").then().statusCode(404);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("uri=\"/v1/fine_tuning/{path}\""), "gateway route template missing");
        assertTrue(metrics.contains("uri=\"/api/artifacts/v1/files/{path}\""), "proxy route template missing");
        assertTrue(metrics.contains("uri=\"/v1/{unrouted}\""), "unrouted template missing");
        assertTrue(!metrics.contains("tenantsecret"), "a request path leaked into /q/metrics");
    }

    @Test
    void metricsTemplatesAreTheRoutePrefixes() {
        assertEquals("/v1/fine_tuning/{path}", GatewayRoutes.metricsTemplate("/v1/fine_tuning/jobs/ftjob-1/checkpoints"));
        assertEquals("/v1/files", GatewayRoutes.metricsTemplate("/v1/files/"));
        assertEquals("/v1/models", GatewayRoutes.metricsTemplate("/v1/models"));
        assertEquals("/v1/models/{path}", GatewayRoutes.metricsTemplate("/v1/models/acme-llama"));
        assertEquals("/v1/chat/completions", GatewayRoutes.metricsTemplate("/v1/chat/completions"));
        assertEquals("/v1/{unrouted}", GatewayRoutes.metricsTemplate("/v1/chat/completions/x"));
        assertEquals("/v1/{unrouted}", GatewayRoutes.metricsTemplate("/q/metrics"));
    }
}
