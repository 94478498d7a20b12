package io.peftfoundry.console.proxy;

import java.util.List;
import java.util.Optional;

/**
 * The public API gateway's route table: which service answers {@code METHOD /v1/…} on the console's own port, so that
 * other teams (and the official OpenAI clients) need one base URL, {@code http://HOST:8080/v1}. First match wins.
 *
 * <ul>
 *   <li>{@code /v1/fine_tuning/…}, {@code /v1/sweeps…}, {@code /v1/auth/…}, {@code /v1/admin/…} → job-api</li>
 *   <li>{@code GET /v1/models} (the list) → eval-service: OpenAI model objects, the servable base models and the
 *       tenant's adapters (a job's {@code fine_tuned_model}), what {@code chat/completions} takes as {@code model}</li>
 *   <li>{@code /v1/models/…} and {@code POST /v1/models} → artifact-store: the model registry (retrieve by id or name,
 *       register an HF-layout checkpoint, content)</li>
 *   <li>{@code /v1/files…}, {@code /v1/adapters…} → artifact-store</li>
 *   <li>{@code /v1/chat/completions}, {@code /v1/completions}, {@code /v1/evaluations…}, {@code /v1/comparisons…},
 *       {@code /v1/leaderboard}, {@code /v1/predictions} → eval-service</li>
 * </ul>
 * Anything else is not forwarded (404). Paths are matched on whole segments: {@code /v1/filesX} matches nothing.
 */
public final class GatewayRoutes {

    public static final String JOB_API = "job-api";
    public static final String ARTIFACT_STORE = "artifact-store";
    public static final String EVAL_SERVICE = "eval-service";

    private record Route(String method, String prefix, boolean exact, String service) {

        boolean matches(String m, String path) {
            if (method != null && !method.equals(m)) {
                return false;
            }
            return exact ? path.equals(prefix) : path.equals(prefix) || path.startsWith(prefix + "/");
        }
    }

    private static final List<Route> ROUTES = List.of(
            new Route(null, "/v1/fine_tuning", false, JOB_API),
            new Route(null, "/v1/sweeps", false, JOB_API),
            new Route(null, "/v1/auth", false, JOB_API),
            new Route(null, "/v1/admin", false, JOB_API),
            new Route("GET", "/v1/models", true, EVAL_SERVICE),
            new Route(null, "/v1/models", false, ARTIFACT_STORE),
            new Route(null, "/v1/files", false, ARTIFACT_STORE),
            new Route(null, "/v1/adapters", false, ARTIFACT_STORE),
            new Route(null, "/v1/chat/completions", true, EVAL_SERVICE),
            new Route(null, "/v1/completions", true, EVAL_SERVICE),
            new Route(null, "/v1/evaluations", false, EVAL_SERVICE),
            new Route(null, "/v1/comparisons", false, EVAL_SERVICE),
            new Route(null, "/v1/leaderboard", true, EVAL_SERVICE),
            new Route(null, "/v1/predictions", true, EVAL_SERVICE));

    private GatewayRoutes() {
    }

    /** The service answering {@code method path} (a normalised path), if the gateway forwards it. */
    public static Optional<String> serviceFor(String method, String path) {
        return route(method, path).map(Route::service);
    }

    /**
     * The name metrics record {@code path} under: the route's prefix, and {@code /{path}} for anything below it
     * ({@code /v1/fine_tuning/jobs/ftjob-1/events} → {@code /v1/fine_tuning/{path}}); {@code /v1/{unrouted}} for a path
     * no route takes. Never the path itself: paths carry tenants' job, file and model ids, and the console's
     * {@code /q/metrics} would then list them (and grow a time series per id).
     */
    public static String metricsTemplate(String path) {
        String p = trim(path);
        return route(null, p).map(r -> p.equals(r.prefix()) ? r.prefix() : r.prefix() + "/{path}").orElse("/v1/{unrouted}");
    }

    /** The first route taking {@code method path}; a null method: the first route taking the path by any method. */
    private static Optional<Route> route(String method, String path) {
        String p = trim(path);
        return ROUTES.stream().filter(r -> r.matches(method == null ? r.method() : method, p)).findFirst();
    }

    private static String trim(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }
}
