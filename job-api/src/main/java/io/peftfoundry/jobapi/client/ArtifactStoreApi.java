package io.peftfoundry.jobapi.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.support.auth.BearerAuthFilter;
import io.peftfoundry.support.client.ServiceCallException;
import io.peftfoundry.support.client.ServiceCallExceptions;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.rest.client.annotation.RegisterProvider;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

import java.time.temporal.ChronoUnit;

/**
 * The artifact-store lookups job-api makes while validating a job spec, with the caller's own key (and, when a service
 * key acts for a tenant, {@code Foundry-On-Behalf-Of} that tenant: a name means that tenant's model). URL and timeouts:
 * {@code quarkus.rest-client.artifact-store.*}. Unreachable or 5xx: retried twice, 200 ms apart.
 */
@RegisterRestClient(configKey = "artifact-store")
@RegisterProvider(ServiceCallExceptions.class)
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
public interface ArtifactStoreApi {

    @GET
    @Path("models/{id}")
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS,
            retryOn = {ProcessingException.class, ServiceCallException.Transient.class})
    JsonNode model(@PathParam("id") String idOrName, @HeaderParam("Authorization") String authorization,
                   @HeaderParam(BearerAuthFilter.ON_BEHALF_OF) String onBehalfOf);

    @GET
    @Path("files/{id}")
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS,
            retryOn = {ProcessingException.class, ServiceCallException.Transient.class})
    JsonNode file(@PathParam("id") String id, @HeaderParam("Authorization") String authorization,
                   @HeaderParam(BearerAuthFilter.ON_BEHALF_OF) String onBehalfOf);

    @GET
    @Path("adapters/{id}")
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS,
            retryOn = {ProcessingException.class, ServiceCallException.Transient.class})
    JsonNode adapter(@PathParam("id") String id, @HeaderParam("Authorization") String authorization,
                   @HeaderParam(BearerAuthFilter.ON_BEHALF_OF) String onBehalfOf);
}
