package io.peftfoundry.eval.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.artifacts.client.ArtifactStoreException;
import io.peftfoundry.engine.task.causal.BatchDecoder;
import io.peftfoundry.engine.task.causal.GenerationConfig;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.eval.config.EvalConfig;
import io.peftfoundry.eval.serving.DecoderServing;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * OpenAI-compatible text generation: {@code POST /v1/completions}, {@code POST /v1/chat/completions} (JSON, or
 * server-sent chunks ending {@code data: [DONE]} with {@code stream: true}) and {@code GET /v1/models}. {@code model}
 * is a decoder backbone (artifact-store model id or name), an adapter id ({@code adapter-…}), or
 * {@code ft:<base>:<adapter id>}; both are looked up with the caller's key, so another tenant's adapter is a 404.
 * Errors come in OpenAI's {@code {"error": {...}}} shape.
 */
@Path("/v1")
public class OpenAiResource {

    private static final Logger LOG = Logger.getLogger(OpenAiResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> DECODERS = Set.of("gpt2", "llama");
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "developer", "tool");
    private static final int MAX_STOP = 4;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DecoderServing serving;
    private final EvalConfig config;
    private final CurrentCaller caller;

    public OpenAiResource(DecoderServing serving, EvalConfig config, CurrentCaller caller) {
        this.serving = serving;
        this.config = config;
        this.caller = caller;
    }

    /** What a request's {@code model} names: a backbone, and an adapter on it (or none). */
    record Target(String base, String adapter) {}

    @POST
    @Path("completions")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    public Response completions(String raw) throws IOException {
        JsonNode body = parse(raw);
        JsonNode p = body.get("prompt");
        String prompt;
        if (p != null && p.isTextual()) {
            prompt = p.asText();
        } else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).asText();
        } else {
            throw OpenAiException.invalid("prompt", "prompt must be a string (or an array of exactly one string)");
        }
        return generate(body, false, session -> prompt);
    }

    @POST
    @Path("chat/completions")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    public Response chatCompletions(String raw) throws IOException {
        JsonNode body = parse(raw);
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw OpenAiException.invalid("messages", "messages must be a non-empty array of {role, content}");
        }
        List<Map<String, Object>> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText("");
            if (!ROLES.contains(role)) {
                throw OpenAiException.invalid("messages[" + i + "].role", "role must be one of " + ROLES + ", got '" + role + "'");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", role);
            msg.put("content", ChatPrompts.content(m, i));
            list.add(msg);
        }
        String model = body.path("model").asText("");
        return generate(body, true, session -> ChatPrompts.render(model, session.decoder().chatTemplate(), list));
    }

    @GET
    @Path("models")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> models(@QueryParam("limit") Integer limit, @QueryParam("after") String after)
            throws IOException {
        // the OpenAI clients read models.list() as one page, so this list's default limit is the maximum (100)
        PageRequest page = PageRequest.of(limit, after, PageRequest.MAX_LIMIT);
        ArtifactClient asCaller = asCaller();
        List<Map<String, Object>> data = new ArrayList<>();
        Set<String> decoders = new HashSet<>();
        try {
            for (JsonNode m : asCaller.listModels().path("data")) {
                if (!DECODERS.contains(m.path("model_type").asText(""))) {
                    continue;
                }
                decoders.add(m.path("id").asText());
                decoders.add(m.path("name").asText());
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("id", m.path("id").asText());
                o.put("object", "model");
                o.put("created", m.path("created_at").asLong());
                o.put("owned_by", m.path("owned_by").asText("system"));
                o.put("name", m.path("name").asText(null));
                o.put("model_type", m.path("model_type").asText());
                o.put("kind", "base");
                data.add(o);
            }
            for (JsonNode a : asCaller.listAdapters().path("data")) {
                String base = a.path("lineage").path("base_model").asText("");
                if (!decoders.contains(base)) {
                    continue;
                }
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("id", a.path("id").asText());
                o.put("object", "model");
                o.put("created", a.path("created_at").asLong());
                o.put("owned_by", caller.tenant());
                o.put("parent", base);
                o.put("root", base);
                o.put("kind", "adapter");
                o.put("method", a.path("lineage").path("method").asText(null));
                o.put("job_id", a.path("job_id").asText(null));
                o.put("name", a.path("name").asText(null));
                data.add(o);
            }
        } catch (ArtifactStoreException e) {
            throw new OpenAiException(502, "api_error", null, null, "artifact-store answered HTTP " + e.status());
        }
        // base models, then adapters, as assembled: paged in memory (both lists come whole from artifact-store)
        return Page.slice(data, page, o -> (String) o.get("id"), "model").body(o -> o, o -> (String) o.get("id"));
    }

    // ---- request handling ---------------------------------------------------------------------

    @FunctionalInterface
    interface PromptBuilder {
        String prompt(DecoderServing.Session session);
    }

    private static JsonNode parse(String raw) {
        if (raw == null || raw.isBlank()) {
            throw OpenAiException.invalid(null, "send a JSON object as the request body");
        }
        try {
            JsonNode body = JSON.readTree(raw);
            if (body == null || !body.isObject()) {
                throw OpenAiException.invalid(null, "the request body must be a JSON object");
            }
            return body;
        } catch (JsonProcessingException e) {
            throw OpenAiException.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        }
    }

    private Response generate(JsonNode body, boolean chat, PromptBuilder builder) throws IOException {
        String model = body.path("model").asText("");
        if (model.isBlank()) {
            throw OpenAiException.invalid("model", "model is required: a base model, an adapter id or ft:<base>:<adapter id>");
        }
        int n = intField(body, "n", 1, 1, 1);
        if (n != 1) {
            throw OpenAiException.invalid("n", "only n = 1 is supported");
        }
        double temperature = number(body, "temperature", 1.0, 0, 2);
        double topP = number(body, "top_p", 1.0, 0, 1);
        if (topP == 0) {
            throw OpenAiException.invalid("top_p", "top_p must be greater than 0");
        }
        List<String> stop = stops(body.get("stop"));
        long seed = body.hasNonNull("seed") ? longField(body, "seed") : RANDOM.nextLong();
        boolean stream = body.path("stream").asBoolean(false);
        boolean includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
        Integer maxTokens = null;
        for (String f : chat ? List.of("max_completion_tokens", "max_tokens") : List.of("max_tokens")) {
            if (body.hasNonNull(f)) {
                maxTokens = intField(body, f, 0, 1, Integer.MAX_VALUE);
                break;
            }
        }
        Target target = resolve(model);
        DecoderServing.Session session;
        try {
            session = serving.open(target.base(), target.adapter());
        } catch (io.peftfoundry.artifacts.client.ArtifactStoreException e) {
            throw e.status() == 404 ? OpenAiException.modelNotFound(model)
                    : new OpenAiException(502, "api_error", null, null, "artifact-store answered HTTP " + e.status());
        } catch (IOException | IllegalArgumentException e) {
            LOG.warnf("could not load %s for serving: %s", model, e.getMessage());
            throw OpenAiException.invalid("model", "model '" + model + "' cannot be served: " + e.getMessage());
        }
        boolean handedOver = false;
        try {
            long[] prompt = session.encode(builder.prompt(session));
            if (prompt.length == 0) {
                throw OpenAiException.invalid(chat ? "messages" : "prompt", "the prompt is empty (0 tokens)");
            }
            int room = session.maxPositions() - prompt.length;
            if (room < 1) {
                throw OpenAiException.invalid(chat ? "messages" : "prompt", "context_length_exceeded", "the prompt is "
                        + prompt.length + " tokens; model '" + model + "' takes at most " + session.maxPositions()
                        + " tokens of prompt and completion together");
            }
            int max = maxTokens != null ? maxTokens : chat ? Math.min(room, config.maxCompletionTokens()) : 16;
            if (maxTokens != null && maxTokens > room) {
                throw OpenAiException.invalid(chat && body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
                        "context_length_exceeded", "the prompt is " + prompt.length + " tokens and max_tokens " + maxTokens
                        + "; model '" + model + "' takes at most " + session.maxPositions() + " together");
            }
            GenerationConfig gen = new GenerationConfig(max, temperature, topP, stop, seed);
            Call call = new Call(session, prompt, gen, chat, model, includeUsage);
            if (!stream) {
                try {
                    return Response.ok(call.complete(), MediaType.APPLICATION_JSON).build();
                } finally {
                    handedOver = true;
                    session.close();
                }
            }
            handedOver = true;
            StreamingOutput out = os -> {
                try {
                    call.stream(os);
                } finally {
                    session.close();
                }
            };
            return Response.ok(out, MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache")
                    .header("X-Accel-Buffering", "no").build();
        } finally {
            if (!handedOver) {
                session.close();
            }
        }
    }

    /** Resolves {@code model} with the caller's key: another tenant's adapter or model is a 404 here. */
    private Target resolve(String model) throws IOException {
        String id = model.startsWith("ft:") ? model.substring(model.lastIndexOf(':') + 1) : model;
        ArtifactClient asCaller = asCaller();
        try {
            if (id.startsWith("adapter-")) {
                JsonNode meta = asCaller.getAdapter(id);
                String base = meta.path("lineage").path("base_model").asText("");
                if (base.isEmpty()) {
                    throw OpenAiException.invalid("model", "adapter '" + id + "' records no base_model in its lineage");
                }
                requireDecoder(asCaller.getModel(base), model);
                return new Target(base, id);
            }
            JsonNode meta = asCaller.getModel(id);
            requireDecoder(meta, model);
            return new Target(meta.path("id").asText(id), null);
        } catch (ArtifactStoreException e) {
            if (e.status() == 404) {
                throw OpenAiException.modelNotFound(model);
            }
            throw new OpenAiException(502, "api_error", null, null, "artifact-store answered HTTP " + e.status());
        }
    }

    private static void requireDecoder(JsonNode modelMeta, String requested) {
        String type = modelMeta.path("model_type").asText("");
        if (!DECODERS.contains(type)) {
            throw OpenAiException.invalid("model", "model '" + requested + "' is a " + (type.isEmpty() ? "non-decoder" : type)
                    + " model: text generation needs a decoder (" + DECODERS + ")");
        }
    }

    private ArtifactClient asCaller() {
        return new ArtifactClient(config.artifactStoreUrl(), caller.bearerKey(), 2, Duration.ofMillis(200), Duration.ofSeconds(30));
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray() && stop.size() <= MAX_STOP) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw OpenAiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
                }
                out.add(s.asText());
            }
        } else {
            throw OpenAiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw OpenAiException.invalid("stop", "stop sequences must not be empty");
            }
        }
        return out;
    }

    private static double number(JsonNode body, String field, double dflt, double min, double max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
            throw OpenAiException.invalid(field, field + " must be a number between " + min + " and " + max + ", got " + v);
        }
        return v.asDouble();
    }

    private static int intField(JsonNode body, String field, int dflt, int min, int max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min || v.asInt() > max) {
            throw OpenAiException.invalid(field, field + " must be an integer between " + min + " and " + max + ", got " + v);
        }
        return v.asInt();
    }

    private static long longField(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw OpenAiException.invalid(field, field + " must be an integer, got " + v);
        }
        return v.asLong();
    }

    /** One generation: submitted to the decoder, answered as one JSON object or as a stream of chunks. */
    private static final class Call implements BatchDecoder.Listener {
        private final DecoderServing.Session session;
        private final long[] prompt;
        private final GenerationConfig gen;
        private final boolean chat;
        private final String model;
        private final boolean includeUsage;
        private final String id;
        private final long created = Instant.now().getEpochSecond();
        private final BlockingQueue<Boolean> events = new LinkedBlockingQueue<>(); // true = finished
        private final int holdBack;

        Call(DecoderServing.Session session, long[] prompt, GenerationConfig gen, boolean chat, String model, boolean includeUsage) {
            this.session = session;
            this.prompt = prompt;
            this.gen = gen;
            this.chat = chat;
            this.model = model;
            this.includeUsage = includeUsage;
            this.id = (chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().formatHex(RANDOM.generateSeed(12));
            this.holdBack = gen.stop().stream().mapToInt(String::length).max().orElse(1) - 1;
        }

        @Override
        public void onToken(BatchDecoder.Row row, long token) {
            events.add(false);
        }

        @Override
        public void onFinish(BatchDecoder.Row row) {
            events.add(true);
        }

        Map<String, Object> complete() {
            BatchDecoder.Row row = session.submit(prompt, gen, this);
            try {
                while (!Boolean.TRUE.equals(events.take())) {
                    // tokens: wait for the end
                }
            } catch (InterruptedException e) {
                row.cancel();
                Thread.currentThread().interrupt();
                throw new OpenAiException(503, "api_error", null, null, "interrupted");
            }
            failIfError(row);
            Map<String, Object> choice = new LinkedHashMap<>();
            choice.put("index", 0);
            if (chat) {
                Map<String, Object> message = new LinkedHashMap<>();
                message.put("role", "assistant");
                message.put("content", row.text());
                choice.put("message", message);
            } else {
                choice.put("text", row.text());
            }
            choice.put("logprobs", null);
            choice.put("finish_reason", finishReason(row));
            Map<String, Object> out = head();
            out.put("choices", List.of(choice));
            out.put("usage", usage(row));
            return out;
        }

        void stream(OutputStream os) throws IOException {
            BatchDecoder.Row row = session.submit(prompt, gen, this);
            try {
                if (chat) {
                    send(os, chunk(Map.of("role", "assistant", "content", ""), null, null));
                }
                int emitted = 0;
                boolean finished = false;
                while (!finished) {
                    Boolean e = events.poll(30, TimeUnit.SECONDS);
                    if (e == null) {
                        continue;
                    }
                    finished = e;
                    while (!finished && (e = events.poll()) != null) {
                        finished = e; // several tokens at once: one delta
                    }
                    String text;
                    int safe;
                    if (finished) {
                        failIfError(row);
                        text = row.text();
                        safe = text.length();
                    } else {
                        text = session.decode(row.tokens());
                        safe = text.length() - holdBack;
                        int broken = text.indexOf('\uFFFD', Math.max(0, emitted));
                        if (broken >= 0) {
                            safe = Math.min(safe, broken); // an incomplete UTF-8 sequence: wait for its other bytes
                        }
                    }
                    if (safe > emitted && text.length() >= safe) {
                        String delta = text.substring(emitted, safe);
                        emitted = safe;
                        send(os, chat ? chunk(Map.of("content", delta), null, null) : chunk(null, delta, null));
                    }
                    if (finished) {
                        send(os, chat ? chunk(Map.of(), null, finishReason(row)) : chunk(null, "", finishReason(row)));
                        if (includeUsage) {
                            Map<String, Object> u = head();
                            u.put("object", chat ? "chat.completion.chunk" : "text_completion");
                            u.put("choices", List.of());
                            u.put("usage", usage(row));
                            send(os, u);
                        }
                    }
                }
                os.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                os.flush();
            } catch (IOException e) {
                row.cancel(); // the client went away: free its batch row
                throw e;
            } catch (InterruptedException e) {
                row.cancel();
                Thread.currentThread().interrupt();
            } catch (OpenAiException e) {
                Map<String, Object> err = new LinkedHashMap<>();
                err.put("message", e.getMessage());
                err.put("type", "api_error");
                err.put("param", null);
                err.put("code", null);
                send(os, Map.of("error", err));
            }
        }

        private static void failIfError(BatchDecoder.Row row) {
            if ("error".equals(row.finishReason())) {
                throw new OpenAiException(500, "api_error", null, null, "generation failed on the server; see eval-service's log");
            }
        }

        private Map<String, Object> head() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("id", id);
            out.put("object", chat ? "chat.completion" : "text_completion");
            out.put("created", created);
            out.put("model", model);
            out.put("system_fingerprint", null);
            return out;
        }

        private Map<String, Object> chunk(Map<String, Object> delta, String text, String finishReason) {
            Map<String, Object> choice = new LinkedHashMap<>();
            choice.put("index", 0);
            if (chat) {
                choice.put("delta", delta);
            } else {
                choice.put("text", text);
            }
            choice.put("logprobs", null);
            choice.put("finish_reason", finishReason);
            Map<String, Object> out = head();
            out.put("object", chat ? "chat.completion.chunk" : "text_completion");
            out.put("choices", List.of(choice));
            return out;
        }

        private Map<String, Object> usage(BatchDecoder.Row row) {
            int completion = row.tokens().length;
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("prompt_tokens", prompt.length);
            u.put("completion_tokens", completion);
            u.put("total_tokens", prompt.length + completion);
            return u;
        }

        /** OpenAI's reasons: EOS and stop sequences are "stop", the token limit and the context are "length". */
        private static String finishReason(BatchDecoder.Row row) {
            return switch (row.finishReason()) {
                case "eos", "stop" -> "stop";
                default -> "length";
            };
        }

        private static void send(OutputStream os, Map<String, Object> event) throws IOException {
            os.write(("data: " + JSON.writeValueAsString(event) + "\n\n").getBytes(StandardCharsets.UTF_8));
            os.flush();
        }
    }
}
