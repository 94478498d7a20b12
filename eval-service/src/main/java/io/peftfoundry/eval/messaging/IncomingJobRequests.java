package io.peftfoundry.eval.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.eval.service.EvalStore;
import io.peftfoundry.support.messaging.RetryingConsumer;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Keeps each job's spec and tenant as job-api queued them ({@code JobRequested} on {@code foundry.jobs.requested},
 * group {@code eval-service}): job-api shows a key only its own tenant's jobs, so this is how the eval-service learns
 * another tenant's model, files, seed and hyperparameters. Only the first attempt's record is kept (specs do not
 * change between attempts). A database failure is retried in place ({@link RetryingConsumer}).
 */
@ApplicationScoped
public class IncomingJobRequests {

    private static final Logger LOG = Logger.getLogger(IncomingJobRequests.class);

    private final ObjectMapper mapper;
    private final EvalStore store;
    private final RetryingConsumer retrying;

    public IncomingJobRequests(ObjectMapper mapper, EvalStore store, RetryingConsumer retrying) {
        this.mapper = mapper;
        this.store = store;
        this.retrying = retrying;
    }

    @Incoming("job-requests")
    @Blocking
    public void onJobRequested(ConsumerRecord<String, String> record) throws Exception {
        retrying.process("job-requests", record, this::save);
    }

    private void save(ConsumerRecord<String, String> record) throws Exception {
        JsonNode n = mapper.readTree(record.value());
        String jobId = n.path("job_id").asText("");
        String tenant = n.path("tenant").asText("");
        JsonNode spec = n.get("spec");
        if (jobId.isEmpty() || tenant.isEmpty() || spec == null || !spec.isObject()) {
            throw new IllegalArgumentException("JobRequested without job_id, tenant or spec");
        }
        store.saveSpec(jobId, tenant, spec);
        LOG.debugf("job %s: spec recorded for tenant %s", jobId, tenant);
    }
}
