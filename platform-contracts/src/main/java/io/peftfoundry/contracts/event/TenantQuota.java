package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.Topics;

import java.time.Instant;

/**
 * A tenant's concurrency quota, on {@link Topics#TENANT_QUOTAS} (key: tenant id; the newest message per tenant wins).
 *
 * @param tenant          the tenant
 * @param maxRunningJobs  at most this many of the tenant's jobs train at once; null = unlimited (the default)
 * @param at              when an admin set it
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TenantQuota(String tenant, Integer maxRunningJobs, Instant at) {
}
