package io.peftfoundry.artifacts.client;

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
 * job-api's {@code GET /v1/fine_tuning/jobs/{id}}, asked with the uploader's own key: job-api shows a key only its
 * tenant's jobs, so a 200 proves the job is that tenant's. URL and timeouts: {@code quarkus.rest-client.job-api.*}.
 */
@RegisterRestClient(configKey = "job-api")
@RegisterProvider(ServiceCallExceptions.class)
@Path("/v1/fine_tuning/jobs")
public interface JobApiJobs {

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Retry(maxRetries = 2, delay = 200, delayUnit = ChronoUnit.MILLIS,
            retryOn = {ProcessingException.class, ServiceCallException.Transient.class})
    String job(@PathParam("id") String jobId, @HeaderParam("Authorization") String authorization,
               @HeaderParam(BearerAuthFilter.ON_BEHALF_OF) String onBehalfOf);
}
