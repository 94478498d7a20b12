-- Longest first within a tenant's turn (trainer-worker/README.md, "Scheduling"): the job's estimated training time
-- from JobRequested.resources.estimated_seconds (platform-contracts DurationEstimate). The claim orders a tenant's queued
-- jobs of one priority by enqueued_at - estimated_seconds; NULL (requests from before, or an unknown size) counts as 0.
ALTER TABLE job_queue ADD COLUMN estimated_seconds DOUBLE PRECISION;
