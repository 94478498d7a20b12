package io.peftfoundry.console.proxy;

import io.peftfoundry.console.config.ConsoleConfig;
import io.quarkus.micrometer.runtime.binder.vertx.HttpRequestMetric;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Forwards the browser's calls to the platform services, so the console's pages need neither CORS nor the services'
 * addresses: {@code /api/jobs/v1/X} → job-api {@code /v1/X}, {@code /api/artifacts/v1/X} → artifact-store,
 * {@code /api/evals/v1/X} → eval-service; any other path under a prefix (the services' {@code /q/*}) is a 404 here.
 * The upstream request is built from the configured host and the parsed, normalised path, never from the raw request
 * line. Method, query, body and end-to-end headers ({@code Authorization}, {@code Idempotency-Key},
 * {@code Last-Event-ID} …) pass unchanged; bodies stream both ways, so uploads, adapter downloads and
 * server-sent events are never held in memory. A service that does not answer gives a 502 problem+json naming it.
 *
 * <p>The same proxy is the platform's public API gateway: {@code /v1/…} on the console's port goes to the service
 * {@link GatewayRoutes} names, unchanged (path, query, body, {@code Authorization}), so other teams and the official
 * OpenAI clients use one base URL, {@code http://HOST:8080/v1}. The services' error answers pass through (problem+json
 * carrying OpenAI's {@code error} object); the gateway's own 404 and 502 have the same shape.
 */
@ApplicationScoped
public class ServiceProxy {

    private static final Logger LOG = Logger.getLogger(ServiceProxy.class);

    /** Headers that describe one connection, not the exchange (RFC 9110 §7.6.1), plus Host. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host");

    /** Where a prefix goes: the service's scheme, host, port and base path, parsed once from configuration. */
    record Upstream(String prefix, String service, String baseUrl, boolean ssl, String host, int port, String basePath) {

        static Upstream of(String prefix, String service, String url) {
            URI uri = URI.create(trimSlash(url));
            if (uri.getHost() == null || uri.getScheme() == null) {
                throw new IllegalArgumentException(service + " URL must be absolute (http://host:port), got '" + url + "'");
            }
            boolean ssl = "https".equalsIgnoreCase(uri.getScheme());
            int port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
            String path = uri.getRawPath() == null ? "" : uri.getRawPath();
            return new Upstream(prefix, service, trimSlash(url), ssl, uri.getHost(), port, path);
        }
    }

    /**
     * The only paths forwarded (after the prefix): the services' public API. Their {@code /q/*} (health, metrics,
     * OpenAPI) stays internal — metrics name every tenant's job ids.
     */
    static boolean allowed(String rest) {
        return rest.startsWith("/v1/") && !rest.contains("/../") && !rest.contains("/./") && !rest.contains("//");
    }

    private final HttpClient client;
    private final List<Upstream> upstreams;
    private final Map<String, Upstream> byService;
    private final long connectTimeoutMs;
    private final long idleTimeoutMs;

    public ServiceProxy(Vertx vertx, ConsoleConfig config) {
        this.connectTimeoutMs = config.connectTimeout().toMillis();
        this.idleTimeoutMs = config.idleTimeout().toMillis();
        // each open event stream holds a connection: allow many per service
        this.client = vertx.createHttpClient(new HttpClientOptions()
                .setMaxPoolSize(200)
                .setConnectTimeout((int) connectTimeoutMs));
        this.upstreams = List.of(
                Upstream.of("/api/jobs", "job-api", config.jobApiUrl()),
                Upstream.of("/api/artifacts", "artifact-store", config.artifactStoreUrl()),
                Upstream.of("/api/evals", "eval-service", config.evalServiceUrl()));
        this.byService = upstreams.stream().collect(Collectors.toMap(Upstream::service, u -> u));
    }

    void routes(@Observes Router router) {
        for (Upstream upstream : upstreams) {
            router.route(upstream.prefix() + "/*").handler(ctx -> forward(ctx, upstream));
            LOG.infof("proxy %s/* -> %s (%s)", upstream.prefix(), upstream.baseUrl(), upstream.service());
        }
        router.route("/v1/*").handler(this::gateway);
        LOG.infof("gateway /v1/* -> job-api, artifact-store, eval-service (GatewayRoutes)");
    }

    private void forward(RoutingContext ctx, Upstream upstream) {
        // the parsed path with dot segments removed and unreserved characters decoded, never the raw request line
        // (whose absolute form may name another host); host and port come from configuration only
        String path = ctx.normalizedPath();
        String rest = path.startsWith(upstream.prefix()) ? path.substring(upstream.prefix().length()) : "";
        nameInMetrics(ctx, upstream.prefix() + GatewayRoutes.metricsTemplate(rest));
        if (!allowed(rest)) {
            notProxied(ctx, upstream, path);
            return;
        }
        forward(ctx, upstream, rest);
    }

    /** {@code /v1/…}: the public API gateway; the path goes unchanged to the service {@link GatewayRoutes} names. */
    private void gateway(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        nameInMetrics(ctx, GatewayRoutes.metricsTemplate(path));
        Upstream upstream = allowed(path)
                ? GatewayRoutes.serviceFor(ctx.request().method().name(), path).map(byService::get).orElse(null)
                : null;
        if (upstream == null) {
            JsonObject problem = problem(404, "about:blank", "Not found", "no API at " + ctx.request().method() + " "
                    + path + "; the gateway serves /v1/files, /v1/fine_tuning/jobs, /v1/sweeps, /v1/models, "
                    + "/v1/chat/completions, /v1/completions, /v1/evaluations, /v1/comparisons (see README)", "not_found")
                    .put("instance", path);
            ctx.response().setStatusCode(404)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                    .end(problem.encode());
            return;
        }
        forward(ctx, upstream, path);
    }

    private void forward(RoutingContext ctx, Upstream upstream, String rest) {
        HttpServerRequest in = ctx.request();
        in.pause();
        String query = in.query();
        String uri = upstream.basePath() + rest + (query == null || query.isEmpty() ? "" : "?" + query);
        String target = upstream.baseUrl() + rest;
        String accept = in.getHeader(HttpHeaders.ACCEPT);
        boolean stream = accept != null && accept.contains("text/event-stream");

        RequestOptions options = new RequestOptions()
                .setMethod(in.method())
                .setSsl(upstream.ssl())
                .setHost(upstream.host())
                .setPort(upstream.port())
                .setURI(uri)
                .setConnectTimeout(connectTimeoutMs)
                // an event stream may be quiet for long; everything else has to keep moving
                .setIdleTimeout(stream ? 0 : idleTimeoutMs);
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        copyHeaders(in.headers(), headers);
        if (in.authority() != null) {
            headers.set("X-Forwarded-Host", in.authority().toString());
        }
        options.setHeaders(headers);
        boolean hasBody = in.headers().contains(HttpHeaders.CONTENT_LENGTH)
                || in.headers().contains(HttpHeaders.TRANSFER_ENCODING);

        client.request(options)
                .onFailure(err -> unavailable(ctx, upstream, target, err))
                .onSuccess(out -> {
                    // the browser went away (a closed page with a live event stream): drop the upstream exchange too
                    ctx.response().closeHandler(v -> out.reset());
                    if (hasBody && !in.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                        out.setChunked(true);
                    }
                    if (!hasBody) {
                        in.resume();
                    }
                    (hasBody ? out.send(in) : out.send())
                            .onFailure(err -> unavailable(ctx, upstream, target, err))
                            .onSuccess(answer -> relay(ctx, answer));
                });
    }

    private static void relay(RoutingContext ctx, HttpClientResponse answer) {
        HttpServerResponse res = ctx.response();
        if (res.closed()) {
            answer.request().reset();
            return;
        }
        res.setStatusCode(answer.statusCode());
        res.setStatusMessage(answer.statusMessage());
        copyHeaders(answer.headers(), res.headers());
        if (!answer.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
            res.setChunked(true);
        }
        answer.pipeTo(res);
    }

    private static void unavailable(RoutingContext ctx, Upstream upstream, String target, Throwable err) {
        HttpServerResponse res = ctx.response();
        LOG.warnf("proxy %s %s -> %s failed: %s", ctx.request().method(), ctx.request().uri(), target, err.toString());
        if (res.headWritten() || res.ended() || res.closed()) {
            // part of the answer is out already: all the browser can be told is that the stream broke
            if (!res.closed()) {
                res.reset();
            }
            return;
        }
        String detail = upstream.service() + " at " + upstream.baseUrl() + " did not answer: " + err.getMessage();
        JsonObject problem = problem(502, "/problems/service-unavailable", "Bad gateway", detail, "service-unavailable")
                .put("service", upstream.service());
        res.setStatusCode(502)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                .end(problem.encode());
    }

    /**
     * An RFC 9457 problem with OpenAI's {@code error} object beside it, the shape every service answers errors in
     * ({@code contracts.Problem}), so the OpenAI clients read the gateway's own errors too.
     */
    static JsonObject problem(int status, String type, String title, String detail, String code) {
        return new JsonObject()
                .put("type", type)
                .put("title", title)
                .put("status", status)
                .put("detail", detail)
                .put("error", new JsonObject().put("message", detail)
                        .put("type", status >= 500 ? "server_error" : "invalid_request_error")
                        .putNull("param").put("code", code));
    }

    private static void notProxied(RoutingContext ctx, Upstream upstream, String path) {
        JsonObject problem = problem(404, "about:blank", "Not found", "the console forwards " + upstream.prefix()
                + "/v1/… to " + upstream.service() + " and nothing else; " + path + " is not forwarded", "not_found")
                .put("instance", path);
        ctx.response().setStatusCode(404)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                .end(problem.encode());
    }

    /**
     * The {@code uri} tag of this request's {@code http_server_requests} metrics: a route template, never the path
     * ({@link GatewayRoutes#metricsTemplate}). A catch-all route would otherwise be recorded under its raw path.
     */
    private static void nameInMetrics(RoutingContext ctx, String template) {
        HttpRequestMetric metric = HttpRequestMetric.getRequestMetric(ctx);
        if (metric != null) {
            metric.setTemplatePath(template);
        }
    }

    private static void copyHeaders(MultiMap from, MultiMap to) {
        for (var header : from) {
            if (!HOP_BY_HOP.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                to.add(header.getKey(), header.getValue());
            }
        }
    }

    private static String trimSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
