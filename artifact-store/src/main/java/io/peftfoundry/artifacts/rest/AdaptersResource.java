package io.peftfoundry.artifacts.rest;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.artifacts.service.AdapterService;
import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.artifacts.service.ArtifactStorage;
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

/** Trained adapters: {@code POST/GET /v1/adapters}, {@code GET /v1/adapters/{id}[/content]}. */
@Path("/v1/adapters")
public class AdaptersResource {

    private final AdapterService adapters;
    private final ArtifactStorage storage;
    private final CurrentCaller caller;
    private final ArtifactsConfig config;

    public AdaptersResource(AdapterService adapters, ArtifactStorage storage, CurrentCaller caller, ArtifactsConfig config) {
        this.adapters = adapters;
        this.storage = storage;
        this.caller = caller;
        this.config = config;
    }

    /** Multipart: {@code file} (zip of the PEFT-format directory), {@code lineage} (JSON), optional {@code name}, {@code tenant} (admins). */
    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    public Response upload(@RestForm("file") FileUpload file, @RestForm("lineage") String lineage,
                           @RestForm("name") String name, @RestForm("tenant") String onBehalfOf) throws IOException {
        if (file == null) {
            throw ProblemException.badRequest("invalid-field", "multipart part 'file' (the adapter zip) is missing",
                    List.of(new FieldError("file", "missing")));
        }
        Artifact a = adapters.upload(caller.get(), file.uploadedFile(), file.size(), lineage, name, onBehalfOf);
        return Response.status(201).entity(Views.adapter(a)).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> list(@QueryParam("limit") Integer limit, @QueryParam("after") String after) {
        return Views.list(adapters.list(caller.get(), PageRequest.of(limit, after)), Views::adapter);
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> get(@PathParam("id") String id) {
        return Views.adapter(adapters.get(caller.get(), id));
    }

    /** The zip of the PEFT-format directory, verified first; {@code ?presign=true} for a URL instead. */
    @GET
    @Path("{id}/content")
    @Produces({"application/zip", MediaType.APPLICATION_JSON})
    public Response content(@PathParam("id") String id, @QueryParam("presign") boolean presign) throws IOException {
        Artifact a = adapters.get(caller.get(), id);
        if (presign) {
            return Response.ok(Downloads.presigned(storage, a, config.presignExpiry()), MediaType.APPLICATION_JSON).build();
        }
        return Downloads.verified(storage, a);
    }
}
