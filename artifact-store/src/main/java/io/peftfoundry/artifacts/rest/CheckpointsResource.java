package io.peftfoundry.artifacts.rest;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.artifacts.service.ArtifactStorage;
import io.peftfoundry.artifacts.service.CheckpointService;
import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Training checkpoints per job and attempt; the newest {@code keep-last} per job are kept. Only the job's tenant, or a
 * platform key writing for it ({@code tenant}), may write a job's checkpoints (job-api confirms the owner); a platform
 * key reads a job's checkpoints as its tenant with {@code ?tenant=}.
 */
@Path("/v1/checkpoints")
public class CheckpointsResource {

    private final CheckpointService checkpoints;
    private final ArtifactStorage storage;
    private final CurrentCaller caller;

    public CheckpointsResource(CheckpointService checkpoints, ArtifactStorage storage, CurrentCaller caller) {
        this.checkpoints = checkpoints;
        this.storage = storage;
        this.caller = caller;
    }

    /** Multipart: {@code job_id}, {@code attempt}, {@code step}, {@code file} (zip), optional {@code tenant} (admins). */
    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    public Response upload(@RestForm("file") FileUpload file, @RestForm("job_id") String jobId,
                           @RestForm("attempt") String attempt, @RestForm("step") String step,
                           @RestForm("tenant") String onBehalfOf) throws IOException {
        if (file == null) {
            throw ProblemException.badRequest("invalid-field", "multipart part 'file' (the checkpoint zip) is missing",
                    List.of(new FieldError("file", "missing")));
        }
        Artifact a = checkpoints.upload(caller.get(), caller.bearerKey(), file.uploadedFile(), file.size(), jobId, attempt,
                step, onBehalfOf);
        return Response.status(201).entity(Views.checkpoint(a)).build();
    }

    /** A job's checkpoints, newest (highest attempt, then step) first. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> list(@QueryParam("job_id") String jobId, @QueryParam("tenant") String tenant,
                                    @QueryParam("limit") Integer limit, @QueryParam("after") String after) {
        PageRequest page = PageRequest.of(limit, after);
        // one job's checkpoints are few (one per checkpoint_every_steps): paged in memory
        return Views.list(Page.slice(checkpoints.list(caller.get(), jobId, tenant), page, Artifact::id, "checkpoint"),
                Views::checkpoint);
    }

    @GET
    @Path("latest")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> latest(@QueryParam("job_id") String jobId, @QueryParam("tenant") String tenant) {
        return Views.checkpoint(checkpoints.latest(caller.get(), jobId, tenant));
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> get(@PathParam("id") String id) {
        return Views.checkpoint(checkpoints.get(caller.get(), id));
    }

    @GET
    @Path("{id}/content")
    @Produces("application/zip")
    public Response content(@PathParam("id") String id) throws IOException {
        return Downloads.verified(storage, checkpoints.get(caller.get(), id));
    }
}
