package io.peftfoundry.artifacts.auth;

/**
 * Who is calling: the tenant of the bearer key. Admin callers (the bootstrap key, or keys job-api
 * marks admin — e.g. the trainer worker's) may read every tenant's artifacts and create artifacts
 * on behalf of a tenant.
 */
public record Caller(String tenant, String keyId, boolean admin) {

    public static final String ADMIN_TENANT = "admin";

    /** The tenant that owns an artifact created by this caller, honouring {@code on_behalf_of} for admins. */
    public String owningTenant(String onBehalfOf) {
        if (onBehalfOf != null && !onBehalfOf.isBlank()) {
            if (!admin) {
                throw new io.peftfoundry.artifacts.rest.ProblemException(403, "forbidden", "Forbidden",
                        "only admin keys may set 'tenant' (create on behalf of another tenant)");
            }
            return onBehalfOf.trim();
        }
        return tenant;
    }
}
