package io.peftfoundry.worker.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.contracts.event.TenantQuota;
import io.peftfoundry.worker.queue.JobQueue;
import io.peftfoundry.worker.service.ClaimLoop;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.sql.SQLException;

/**
 * Records each {@link TenantQuota} from {@link Topics#TENANT_QUOTAS} in {@code worker.tenant_quotas}, where every
 * worker's claim reads it. One group for all workers (committed offsets, from the earliest), so each quota is
 * recorded once, also those set while no worker ran. A raised quota may make queued jobs claimable: wake the claim.
 */
@ApplicationScoped
public class IncomingTenantQuotas {

    private static final Logger LOG = Logger.getLogger(IncomingTenantQuotas.class);

    private final ObjectMapper mapper;
    private final JobQueue queue;
    private final ClaimLoop claims;

    public IncomingTenantQuotas(ObjectMapper mapper, JobQueue queue, ClaimLoop claims) {
        this.mapper = mapper;
        this.queue = queue;
        this.claims = claims;
    }

    @Incoming("tenant-quotas")
    @Blocking
    public void onQuota(ConsumerRecord<String, String> record) throws JsonProcessingException, SQLException {
        TenantQuota quota = mapper.readValue(record.value(), TenantQuota.class);
        if (quota.tenant() == null || (quota.maxRunningJobs() != null && quota.maxRunningJobs() < 0)) {
            throw new IllegalArgumentException("tenant is required and max_running_jobs must be ≥ 0 or null");
        }
        queue.setQuota(quota.tenant(), quota.maxRunningJobs());
        LOG.infof("tenant %s: at most %s running jobs", quota.tenant(),
                quota.maxRunningJobs() == null ? "unlimited" : quota.maxRunningJobs().toString());
        claims.wake();
    }
}
