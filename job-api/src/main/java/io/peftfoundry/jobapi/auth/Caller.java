package io.peftfoundry.jobapi.auth;

/** Who made a request: the tenant its API key belongs to, the key's id, and whether it is an admin key. */
public record Caller(String tenant, String keyId, boolean admin) {
}
