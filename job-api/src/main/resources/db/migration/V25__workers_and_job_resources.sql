-- Capacity-aware placement. The trainer workers as they advertise themselves on foundry.workers (newest message per
-- worker): a job that no worker seen within foundry.scheduling.worker-seen-within can hold is refused at submit.
CREATE TABLE workers (
    worker_id     TEXT PRIMARY KEY,
    device        TEXT NOT NULL,
    -- memory the worker offers to one job, compared with the job's estimated peak memory
    memory_bytes  BIGINT NOT NULL,
    families      TEXT[] NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('up', 'down')),
    -- the worker's own time of the message (an older message arriving late changes nothing)
    advertised_at TIMESTAMPTZ NOT NULL,
    seen_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What a job needs from a worker: {"family": "bert", "memory_estimate": {"peak_bytes": …, "weights_bytes": …, …}}
-- (platform-contracts MemoryEstimate); NULL for jobs from before, or on a model whose sizes artifact-store does not know.
ALTER TABLE jobs ADD COLUMN resources JSONB;
