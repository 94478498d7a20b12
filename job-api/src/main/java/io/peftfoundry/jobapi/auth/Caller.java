package io.peftfoundry.jobapi.auth;

/**
 * Who made a request: the tenant it acts as, the key's id, and whether it is an admin key. {@code actingFrom} is null
 * for an ordinary request; when the service key acts for a tenant ({@code Foundry-On-Behalf-Of}), {@code tenant} is
 * that tenant, {@code admin} is false, and {@code actingFrom} is the key's own tenant.
 */
public record Caller(String tenant, String keyId, boolean admin, String actingFrom) {

    public Caller(String tenant, String keyId, boolean admin) {
        this(tenant, keyId, admin, null);
    }

    /** The same key acting as {@code target}, with that tenant's rights only (no admin endpoints). */
    Caller actingFor(String target) {
        return new Caller(target, keyId, false, tenant);
    }
}
