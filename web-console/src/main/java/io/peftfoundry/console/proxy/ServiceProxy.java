package io.peftfoundry.console.proxy;

import io.peftfoundry.console.config.ConsoleConfig;
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
import java.util.Locale;
import java.util.Set;

/**
 * Forwards the browser's calls to the platform services, so the console's pages need neither CORS nor the services'
 * addresses: {@code /api/jobs/v1/X} → job-api {@code /v1/X}, {@code /api/artifacts/v1/X} → artifact-store,
 * {@code /api/evals/v1/X} → eval-service; any other path under a prefix (the services' {@code /q/*}) is a 404 here.
 * The upstream request is built from the configured host and the parsed, normalised path, never from the raw request
 * line. Method, query, body and end-to-end headers ({@code Authorization}, {@code Idempotency-Key},
 * {@code Last-Event-ID} …) pass unchanged; bodies stream both ways, so uploads, adapter downloads and
 * server-sent events are never held in memory. A service that does not answer gives a 502 problem+json naming it.
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
    }

    void routes(@Observes Router router) {
        for (Upstream upstream : upstreams) {
            router.route(upstream.prefix() + "/*").handler(ctx -> forward(ctx, upstream));
            LOG.infof("proxy %s/* -> %s (%s)", upstream.prefix(), upstream.baseUrl(), upstream.service());
        }
    }

    private void forward(RoutingContext ctx, Upstream upstream) {
        HttpServerRequest in = ctx.request();
        // the parsed path with dot segments removed and unreserved characters decoded, never the raw request line
        // (whose absolute form may name another host); host and port come from configuration only
        String path = ctx.normalizedPath();
        String rest = path.startsWith(upstream.prefix()) ? path.substring(upstream.prefix().length()) : "";
        if (!allowed(rest)) {
            notProxied(ctx, upstream, path);
            return;
        }
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
        JsonObject problem = new JsonObject()
                .put("type", "/problems/service-unavailable")
                .put("title", "Bad gateway")
                .put("status", 502)
                .put("detail", detail)
                .put("service", upstream.service());
        res.setStatusCode(502)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                .end(problem.encode());
    }

    private static void notProxied(RoutingContext ctx, Upstream upstream, String path) {
        JsonObject problem = new JsonObject()
                .put("type", "about:blank")
                .put("title", "Not found")
                .put("status", 404)
                .put("detail", "the console forwards " + upstream.prefix() + "/v1/… to " + upstream.service()
                        + " and nothing else; " + path + " is not forwarded")
                .put("instance", path);
        ctx.response().setStatusCode(404)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                .end(problem.encode());
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
