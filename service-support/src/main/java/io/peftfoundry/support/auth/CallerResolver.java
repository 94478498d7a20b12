package io.peftfoundry.support.auth;

import io.peftfoundry.support.problem.ProblemException;

import java.util.Optional;

/**
 * Turns a presented bearer key (and an optional {@value BearerAuthFilter#ON_BEHALF_OF} tenant) into a caller. job-api,
 * the key authority, reads its database; every other service asks job-api ({@link JobApiCallerResolver}). Results go
 * through {@link CallerCache}, so implementations need not cache.
 */
public interface CallerResolver {

    /**
     * @return the caller, or empty when the key is unknown or revoked
     * @throws ProblemException 400/403 when the key may not act for {@code onBehalfOf} or that tenant does not exist;
     *                          503 when the key authority cannot be asked
     */
    Optional<Caller> resolve(String bearerKey, String onBehalfOf);
}
