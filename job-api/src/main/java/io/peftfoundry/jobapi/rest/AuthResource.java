package io.peftfoundry.jobapi.rest;

import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.auth.CurrentCaller;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.LinkedHashMap;
import java.util.Map;

/** Key introspection for the other services (artifact-store resolves bearer keys here). */
@Path("/v1/auth")
@Produces(MediaType.APPLICATION_JSON)
public class AuthResource {

    private final CurrentCaller current;

    public AuthResource(CurrentCaller current) {
        this.current = current;
    }

    /**
     * {@code {"tenant": "...", "key_id": "...", "admin": bool, "service": bool, "acting_from": "..."}} (acting_from only
     * when a service key acts for a tenant); 401 for an unknown or revoked key.
     */
    @GET
    @Path("whoami")
    public Map<String, Object> whoami() {
        Caller c = current.get();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenant", c.tenant());
        m.put("key_id", c.keyId());
        m.put("admin", c.admin());
        m.put("service", c.service());
        if (c.actingFrom() != null) {
            m.put("acting_from", c.actingFrom());
        }
        return m;
    }
}
