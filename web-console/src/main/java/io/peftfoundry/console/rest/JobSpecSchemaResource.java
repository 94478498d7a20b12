package io.peftfoundry.console.rest;

import io.peftfoundry.contracts.spec.JobSpecs;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** The job spec's JSON Schema from platform-contracts, which drives the new-job form (defaults, ranges, enums). */
@Path("/api/schema/job-spec")
public class JobSpecSchemaResource {

    private static final String SCHEMA = JobSpecs.jsonSchema();

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "JSON Schema (draft 2020-12) of the job spec, as platform-contracts defines it")
    public String schema() {
        return SCHEMA;
    }
}
