package io.peftfoundry.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A problem leaves as RFC 9457 JSON that also carries OpenAI's {@code error} object (what the OpenAI SDKs parse). */
class ProblemJsonTest {

    private final ObjectMapper mapper = new ObjectMapper();

    @Test
    void aFieldErrorBecomesOpenAisParam() throws Exception {
        Problem p = new Problem(Problem.TYPE_VALIDATION, "Invalid job spec", 400, "1 field is invalid: seed: must be ≥ 0",
                "/v1/fine_tuning/jobs", List.of(new FieldError("seed", "must be ≥ 0")));
        JsonNode json = mapper.readTree(mapper.writeValueAsString(p));
        assertEquals(400, json.path("status").asInt());
        assertEquals("seed", json.path("errors").path(0).path("field").asText());
        assertEquals("1 field is invalid: seed: must be ≥ 0", json.path("error").path("message").asText());
        assertEquals("invalid_request_error", json.path("error").path("type").asText());
        assertEquals("seed", json.path("error").path("param").asText());
        assertEquals("validation", json.path("error").path("code").asText());
    }

    @Test
    void aStatusOnlyProblemHasNoParamAndAStatusCode() throws Exception {
        JsonNode unauthorized = mapper.readTree(mapper.writeValueAsString(Problem.of(401, "Unauthorized", "no key", "/v1/files")));
        assertEquals("authentication_error", unauthorized.path("error").path("type").asText());
        assertEquals("invalid_api_key", unauthorized.path("error").path("code").asText());
        assertTrue(unauthorized.path("error").path("param").isNull());
        JsonNode missing = mapper.readTree(mapper.writeValueAsString(Problem.of(404, "Not found", "no file 'x'", "/v1/files/x")));
        assertEquals("invalid_request_error", missing.path("error").path("type").asText());
        assertEquals("not_found", missing.path("error").path("code").asText());
        assertEquals("no file 'x'", missing.path("error").path("message").asText());
    }

    @Test
    void aProblemWithItsErrorMemberReadsBack() throws Exception {
        Problem p = Problem.of(503, "Service unavailable", "job-api did not answer", "/v1/files");
        String json = mapper.writeValueAsString(p);
        assertEquals(p, mapper.readValue(json, Problem.class));
        assertEquals("server_error", mapper.readTree(json).path("error").path("type").asText());
    }
}
