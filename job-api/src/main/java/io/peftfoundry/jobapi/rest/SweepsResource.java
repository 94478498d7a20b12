package io.peftfoundry.jobapi.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.jobapi.sweep.SweepService;
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

import java.sql.SQLException;
import java.util.Map;

/** {@code /v1/sweeps}: many jobs from one base spec, ranked, with early stopping (see {@link SweepService}). */
@Path("/v1/sweeps")
@Produces(MediaType.APPLICATION_JSON)
public class SweepsResource {

    private final CurrentCaller current;
    private final SweepService sweeps;

    public SweepsResource(CurrentCaller current, SweepService sweeps) {
        this.current = current;
        this.sweeps = sweeps;
    }

    /** {@code {"base": spec, "grid": {…}}} or {@code {"base", "random": {…}, "trials", "seed"}} → 201 sweep. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(String body) throws SQLException {
        return Response.status(201).entity(sweeps.create(current.get(), current.bearerKey(), body)).build();
    }

    /** The tenant's sweeps, newest first ({@code limit} 1–100, default 20; {@code after} a sweep id). */
    @GET
    public Map<String, Object> list(@QueryParam("limit") Integer limit, @QueryParam("after") String after)
            throws SQLException {
        return sweeps.list(current.get(), PageRequest.of(limit, after));
    }

    @GET
    @Path("{id}")
    public ObjectNode get(@PathParam("id") String id) throws SQLException {
        return sweeps.view(current.get(), id);
    }

    /** Cancels every child that has not finished; the sweep reads {@code cancelled}. */
    @POST
    @Path("{id}/cancel")
    public ObjectNode cancel(@PathParam("id") String id) throws SQLException {
        return sweeps.cancel(current.get(), id);
    }
}
