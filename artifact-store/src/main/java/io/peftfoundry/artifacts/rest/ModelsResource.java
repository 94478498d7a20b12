package io.peftfoundry.artifacts.rest;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.artifacts.service.ArtifactStorage;
import io.peftfoundry.artifacts.service.ModelService;
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
 * Backbones: {@code GET /v1/models}, {@code GET /v1/models/{id or name}[/content]}, {@code POST /v1/models}. A platform
 * key (admin, service) may add {@code ?tenant=} to look a model up as that tenant sees it (a name is that tenant's).
 */
@Path("/v1/models")
public class ModelsResource {

    private final ModelService models;
    private final ArtifactStorage storage;
    private final CurrentCaller caller;
    private final ArtifactsConfig config;

    public ModelsResource(ModelService models, ArtifactStorage storage, CurrentCaller caller, ArtifactsConfig config) {
        this.models = models;
        this.storage = storage;
        this.caller = caller;
        this.config = config;
    }

    /** Multipart: {@code file} (zip of a Hugging Face layout directory), {@code name}. */
    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    public Response register(@RestForm("file") FileUpload file, @RestForm("name") String name,
                             @RestForm("tenant") String onBehalfOf) throws IOException {
        if (file == null) {
            throw ProblemException.badRequest("invalid-field", "multipart part 'file' (the model zip) is missing",
                    List.of(new FieldError("file", "missing")));
        }
        Artifact a = models.register(caller.get(), file.uploadedFile(), file.size(), name, onBehalfOf);
        return Response.status(201).entity(Views.model(a)).build();
    }

    /**
     * The zip as the raw request body ({@code curl -H 'Content-Type: application/zip' -X POST -T model.zip
     * "…/v1/models?name=NAME"}): for large models — one pass (receive → SHA-256 → work file), no multipart spool.
     */
    @POST
    @Consumes({"application/zip", MediaType.APPLICATION_OCTET_STREAM})
    @Produces(MediaType.APPLICATION_JSON)
    public Response registerStream(java.io.InputStream body, @QueryParam("name") String name,
                                   @QueryParam("tenant") String onBehalfOf,
                                   @jakarta.ws.rs.HeaderParam("Content-Digest") String contentDigest,
                                   @jakarta.ws.rs.HeaderParam("Content-Length") Long contentLength) throws IOException {
        Artifact a = models.registerStream(caller.get(), body, name, onBehalfOf, ContentDigest.sha256Hex(contentDigest),
                contentLength);
        return Response.status(201).entity(Views.model(a)).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> list(@QueryParam("limit") Integer limit, @QueryParam("after") String after) {
        return Views.list(models.list(caller.get(), PageRequest.of(limit, after)), Views::model);
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> get(@PathParam("id") String id, @QueryParam("tenant") String tenant) {
        return Views.model(models.get(caller.get(), id, tenant));
    }

    @GET
    @Path("{id}/content")
    @Produces({"application/zip", MediaType.APPLICATION_JSON})
    public Response content(@PathParam("id") String id, @QueryParam("presign") boolean presign,
                            @QueryParam("tenant") String tenant) throws IOException {
        Artifact a = models.get(caller.get(), id, tenant);
        if (presign) {
            return Response.ok(Downloads.presigned(storage, a, config.presignExpiry()), MediaType.APPLICATION_JSON).build();
        }
        return Downloads.verified(storage, a);
    }
}
