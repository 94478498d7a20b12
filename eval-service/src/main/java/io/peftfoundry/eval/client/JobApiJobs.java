package io.peftfoundry.eval.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.support.auth.BearerAuthFilter;
import io.peftfoundry.support.client.ServiceCallException;
import io.peftfoundry.support.client.ServiceCallExceptions;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.rest.client.annotation.RegisterProvider;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

import java.time.temporal.ChronoUnit;

/**
 * job-api's job submission, as the eval-service uses it for baselines. URL and timeouts:
 * {@code quarkus.rest-client.job-api.*}. Unreachable or 5xx: retried 3 times with a doubling back-off — safe, because
 * every baseline POST carries an {@code Idempotency-Key}.
 */
@RegisterRestClient(configKey = "job-api")
@RegisterProvider(ServiceCallExceptions.class)
@Path("/v1/fine_tuning/jobs")
public interface JobApiJobs {

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Retry(maxRetries = 3, delay = 200, delayUnit = ChronoUnit.MILLIS, jitter = 100,
            retryOn = {ProcessingException.class, ServiceCallException.Transient.class})
    @io.smallrye.faulttolerance.api.ExponentialBackoff
    JsonNode create(JsonNode spec,
                    @HeaderParam("Authorization") String authorization,
                    @HeaderParam("Idempotency-Key") String idempotencyKey,
                    @HeaderParam(BearerAuthFilter.ON_BEHALF_OF) String onBehalfOf);
}
