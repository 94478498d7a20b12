package io.peftfoundry.jobapi.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.peftfoundry.jobapi.config.JobApiConfig;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.auth.CallerCache;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.support.client.ServiceCallException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.Optional;

/**
 * Looks up models, files and adapters in artifact-store with the caller's own key (so a tenant can only name its own
 * artifacts), through the typed client {@link ArtifactStoreApi} (timeouts, bounded retries). Failures surface as
 * {@link IOException}. Found artifacts are cached per key (bounded, for {@code foundry.artifact-store.cache-ttl}):
 * they are immutable, and job submission should not cost three HTTP calls each time.
 */
@ApplicationScoped
public class ArtifactStoreClient {

    private static final Logger LOG = Logger.getLogger(ArtifactStoreClient.class);

    private final ArtifactStoreApi api;
    private final Cache<String, JsonNode> cache;
    private final CurrentCaller current;

    /** A typed call with key and acting tenant. */
    private interface Lookup {
        JsonNode get(String id, String authorization, String onBehalfOf);
    }

    public ArtifactStoreClient(@RestClient ArtifactStoreApi api, JobApiConfig config, CurrentCaller current) {
        this.api = api;
        this.current = current;
        this.cache = Caffeine.newBuilder().maximumSize(10_000)
                .expireAfterWrite(config.artifactStore().cacheTtl()).build();
    }

    /** {@code GET /v1/models/{idOrName}}: empty when the caller's tenant cannot see such a model. */
    public Optional<JsonNode> model(String idOrName, String bearerKey) throws IOException {
        return get("models", idOrName, bearerKey, api::model);
    }

    /** {@code GET /v1/files/{id}} (the file object carries its {@code task}). */
    public Optional<JsonNode> file(String id, String bearerKey) throws IOException {
        return get("files", id, bearerKey, api::file);
    }

    /** {@code GET /v1/adapters/{id}}. */
    public Optional<JsonNode> adapter(String id, String bearerKey) throws IOException {
        return get("adapters", id, bearerKey, api::adapter);
    }

    private Optional<JsonNode> get(String collection, String id, String bearerKey,
                                   Lookup call) throws IOException {
        // a service key acting for a tenant looks the artifacts up as that tenant (names resolve in its namespace)
        Caller caller = current.get();
        String onBehalfOf = caller.actingFrom() != null ? caller.tenant() : null;
        String cacheKey = CallerCache.sha256Hex(bearerKey) + "|" + onBehalfOf + "/" + collection + "/" + id;
        JsonNode cached = cache.getIfPresent(cacheKey);
        if (cached != null) {
            return Optional.of(cached);
        }
        try {
            JsonNode body = call.get(id, "Bearer " + bearerKey, onBehalfOf);
            cache.put(cacheKey, body);
            return Optional.of(body);
        } catch (ServiceCallException e) {
            if (e.status() == 404 || e.status() == 400) {
                return Optional.empty();
            }
            if (e.status() == 401 || e.status() == 403) {
                throw new IOException("artifact-store refused the caller's key (" + e.status() + ") for " + collection
                        + "/" + id + ": is it configured to ask this job-api (FOUNDRY_JOB_API_URL)?");
            }
            throw new IOException("artifact-store answered " + e.getMessage() + " for " + collection + "/" + id);
        } catch (ProcessingException e) {
            LOG.warnf("artifact-store did not answer for %s/%s: %s", collection, id, e.getMessage());
            throw new IOException("artifact-store did not answer for " + collection + "/" + id + ": " + e.getMessage(), e);
        }
    }
}
