package io.peftfoundry.eval.rest;

import io.peftfoundry.support.problem.ProblemException;
import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.artifacts.client.ArtifactStoreException;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.eval.config.EvalConfig;
import io.peftfoundry.eval.serving.PredictionService;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/predictions {model, adapter, inputs[]}} → {@code {object: "list", data: [{label, score, scores}]}}.
 * The adapter is looked up with the caller's own key first, so artifact-store's tenancy applies (another tenant's
 * adapter: 404).
 */
@Path("/v1/predictions")
public class PredictionsResource {

    private static final int MAX_INPUTS = 256;

    private final PredictionService predictions;
    private final EvalConfig config;
    private final CurrentCaller caller;

    public PredictionsResource(PredictionService predictions, EvalConfig config, CurrentCaller caller) {
        this.predictions = predictions;
        this.config = config;
        this.caller = caller;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> predict(JsonNode body) throws IOException {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("send a JSON object {model, adapter, inputs: [text…]}");
        }
        String model = body.path("model").asText("");
        String adapter = body.path("adapter").asText("");
        JsonNode inputs = body.path("inputs");
        if (model.isBlank() || adapter.isBlank()) {
            throw ProblemException.badRequest("model and adapter are required");
        }
        if (!inputs.isArray() || inputs.isEmpty() || inputs.size() > MAX_INPUTS) {
            throw ProblemException.badRequest("inputs must be an array of 1 to " + MAX_INPUTS + " strings");
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (!inputs.get(i).isTextual()) {
                throw ProblemException.badRequest("inputs[" + i + "] is not a string");
            }
            texts.add(inputs.get(i).asText());
        }
        ArtifactClient asCaller = new ArtifactClient(config.artifactStoreUrl(), caller.bearerKey(), 2,
                Duration.ofMillis(200), Duration.ofSeconds(30));
        try {
            asCaller.getModel(model);
            asCaller.getAdapter(adapter);
        } catch (ArtifactStoreException e) {
            if (e.status() == 404) {
                throw new ProblemException(404, "Not Found", "no model '" + model + "' or adapter '" + adapter + "'");
            }
            throw new ProblemException(502, "Bad Gateway", "artifact-store: HTTP " + e.status());
        }
        List<Map<String, Object>> data = new ArrayList<>();
        for (PredictionService.Prediction p : predictions.predict(model, adapter, texts)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", p.label());
            m.put("score", p.score());
            m.put("scores", p.scores());
            data.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "list");
        out.put("model", model);
        out.put("adapter", adapter);
        out.put("data", data);
        return out;
    }
}
