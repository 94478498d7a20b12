package io.peftfoundry.worker.queue;

import io.peftfoundry.contracts.event.JobRequested;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

/** For service tests that run one job through the processor: queue it alone and claim it as the given worker. */
public final class QueueTesting {

    private QueueTesting() {
    }

    public static JobQueue.Claim queueAndClaim(JobQueue queue, DataSource dataSource, JobRequested request,
                                               String workerId) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            // the devstack is shared by the module's test classes: leave nothing else claimable
            s.executeUpdate("DELETE FROM job_queue WHERE state = 'queued'");
        }
        queue.enqueue(request);
        JobQueue.Claim claim = queue.claim(workerId, Duration.ofMinutes(5))
                .orElseThrow(() -> new AssertionError("job " + request.jobId() + " could not be claimed"));
        if (!claim.request().jobId().equals(request.jobId())) {
            throw new AssertionError("claimed " + claim.request().jobId() + " instead of " + request.jobId());
        }
        return claim;
    }
}
