package io.peftfoundry.support.auth;

import io.peftfoundry.support.problem.ProblemException;

/**
 * Who made a request: the tenant it acts as, the key's id, and the key's rights.
 *
 * <ul>
 *   <li>{@code admin}: manages tenants and keys, reads every tenant's artifacts (the bootstrap key, admin keys of the
 *   {@code admin} tenant).</li>
 *   <li>{@code service}: a platform service's own key (trainer workers, eval-service): may act for a tenant
 *   ({@value BearerAuthFilter#ON_BEHALF_OF}), read every tenant's artifacts and create artifacts for a tenant, but
 *   manages nothing.</li>
 * </ul>
 * {@code actingFrom} is null for an ordinary request; when a service key acts for a tenant, {@code tenant} is that
 * tenant, {@code admin} and {@code service} are false, and {@code actingFrom} is the key's own tenant.
 */
public record Caller(String tenant, String keyId, boolean admin, boolean service, String actingFrom) {

    /** The tenant of the bootstrap key and of the platform's own keys. */
    public static final String ADMIN_TENANT = "admin";

    public Caller(String tenant, String keyId, boolean admin) {
        this(tenant, keyId, admin, false, null);
    }

    /** Whether this key may see and create artifacts of every tenant (admin or platform service). */
    public boolean platform() {
        return admin || service;
    }

    /** The same key acting as {@code target}, with that tenant's rights only. */
    public Caller actingFor(String target) {
        return new Caller(target, keyId, false, false, tenant);
    }

    /** The tenant that owns an artifact this caller creates, honouring a requested owner for platform keys. */
    public String owningTenant(String onBehalfOf) {
        if (onBehalfOf != null && !onBehalfOf.isBlank()) {
            if (!platform()) {
                throw ProblemException.forbidden("only admin or service keys may set 'tenant' (create on behalf of"
                        + " another tenant); key " + keyId + " creates for its own tenant " + tenant);
            }
            return onBehalfOf.trim();
        }
        return tenant;
    }
}
