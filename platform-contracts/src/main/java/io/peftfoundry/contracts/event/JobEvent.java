package io.peftfoundry.contracts.event;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.peftfoundry.contracts.Topics;

import java.time.Instant;
import java.util.Map;

/**
 * Something that happened to a job, on {@link Topics#JOBS_EVENTS} (key: job id).
 *
 * @param jobId  the job
 * @param seq    per-job sequence number from 1, increasing; lets consumers drop duplicates
 * @param type   message, metrics, status or checkpoint
 * @param status the job's status after this event (always set for {@code status} events, may be null otherwise)
 * @param data   free-form details: {@code message} for text; {@code step, total_steps, loss, learning_rate,
 *               tokens_per_second, eta_seconds} for metrics; the checkpoint or adapter artifact id for checkpoints;
 *               {@code error{code,message,param}} for a failure
 * @param at     when it happened (ISO-8601 in JSON)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record JobEvent(String jobId, long seq, JobEventType type, JobStatus status, Map<String, Object> data,
                       Instant at) {
}
