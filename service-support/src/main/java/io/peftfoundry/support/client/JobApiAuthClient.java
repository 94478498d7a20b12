package io.peftfoundry.support.client;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.peftfoundry.support.auth.BearerAuthFilter;
import io.peftfoundry.support.auth.Caller;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.rest.client.annotation.RegisterProvider;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

import java.time.temporal.ChronoUnit;

/**
 * job-api's key introspection ({@code GET /v1/auth/whoami}), base URL {@code quarkus.rest-client.job-api.url}; connect
 * and read timeouts from {@code quarkus.rest-client.job-api.*} (defaults in this jar's microprofile-config.properties).
 * Unreachable or 5xx: retried twice.
 */
@RegisterRestClient(configKey = "job-api")
@RegisterProvider(ServiceCallExceptions.class)
@Path("/v1/auth")
public interface JobApiAuthClient {

    /** The answer of whoami. */
    record Whoami(String tenant, @JsonProperty("key_id") String keyId, boolean admin, boolean service,
                  @JsonProperty("acting_from") String actingFrom) {

        public Caller toCaller() {
            return new Caller(tenant, keyId, admin, service, actingFrom);
        }
    }

    @GET
    @Path("whoami")
    @Produces(MediaType.APPLICATION_JSON)
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS,
            retryOn = {ProcessingException.class, ServiceCallException.Transient.class})
    Whoami whoami(@HeaderParam("Authorization") String authorization,
                  @HeaderParam(BearerAuthFilter.ON_BEHALF_OF) String onBehalfOf);
}
