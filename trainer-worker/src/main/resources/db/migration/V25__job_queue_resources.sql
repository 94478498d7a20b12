-- Capacity-aware placement (trainer-worker/README.md, "Scheduling"): what a worker must offer to claim a job, from
-- JobRequested.resources. A worker's claim skips jobs whose estimated peak memory exceeds what it offers, or whose model
-- family it cannot load; NULL (requests from before, or a model whose size is unknown) = any worker.
ALTER TABLE job_queue ADD COLUMN memory_bytes BIGINT;
ALTER TABLE job_queue ADD COLUMN family TEXT;
