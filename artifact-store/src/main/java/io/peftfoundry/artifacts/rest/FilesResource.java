package io.peftfoundry.artifacts.rest;

import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.support.problem.ProblemException;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.artifacts.config.ArtifactsConfig;
import io.peftfoundry.artifacts.service.Artifact;
import io.peftfoundry.artifacts.service.ArtifactStorage;
import io.peftfoundry.artifacts.service.FileService;
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
import java.util.Map;

/** Datasets: {@code POST/GET /v1/files}, {@code GET /v1/files/{id}}, {@code GET /v1/files/{id}/content}. */
@Path("/v1/files")
public class FilesResource {

    private final FileService files;
    private final ArtifactStorage storage;
    private final CurrentCaller caller;
    private final ArtifactsConfig config;

    public FilesResource(FileService files, ArtifactStorage storage, CurrentCaller caller, ArtifactsConfig config) {
        this.files = files;
        this.storage = storage;
        this.caller = caller;
        this.config = config;
    }

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    public Response upload(@RestForm("file") FileUpload file, @RestForm("purpose") String purpose,
                           @RestForm("task") String task, @RestForm("tenant") String onBehalfOf) throws IOException {
        if (file == null) {
            throw ProblemException.badRequest("invalid-field", "multipart part 'file' is missing",
                    java.util.List.of(new FieldError("file", "missing")));
        }
        Artifact a = files.upload(caller.get(), file.uploadedFile(), file.size(), file.fileName(), purpose, task, onBehalfOf);
        return Response.status(201).entity(Views.file(a)).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> list(@QueryParam("limit") Integer limit, @QueryParam("after") String after) {
        return Views.list(files.list(caller.get(), PageRequest.of(limit, after)), Views::file);
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> get(@PathParam("id") String id) {
        return Views.file(files.get(caller.get(), id));
    }

    /** The bytes, verified against the recorded sha-256 first; {@code ?presign=true} returns a time-limited S3 URL instead. */
    @GET
    @Path("{id}/content")
    @Produces({MediaType.APPLICATION_OCTET_STREAM, MediaType.APPLICATION_JSON})
    public Response content(@PathParam("id") String id, @QueryParam("presign") boolean presign) throws IOException {
        Artifact a = files.get(caller.get(), id);
        if (presign) {
            return Response.ok(Downloads.presigned(storage, a, config.presignExpiry()), MediaType.APPLICATION_JSON).build();
        }
        return Downloads.verified(storage, a);
    }

    @GET
    @Path("{id}/url")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> url(@PathParam("id") String id) throws IOException {
        return Downloads.presigned(storage, files.get(caller.get(), id), config.presignExpiry());
    }
}
