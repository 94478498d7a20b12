-- A released lease stays as a row (released_at set, expires_at = release time) so the next run of the job knows
-- whether the previous worker finished its part cleanly (pause) or vanished (crash). failures counts the runs of the
-- job that failed or were lost, for the bounded retries (foundry.worker.max-attempts).
ALTER TABLE job_leases ADD COLUMN released_at TIMESTAMPTZ;
ALTER TABLE job_leases ADD COLUMN failures INT NOT NULL DEFAULT 0;

-- What this worker pool decided for a job; a job listed here with a terminal status is never trained again.
CREATE TABLE job_outcomes (
    job_id      TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'cancelled')),
    attempt     INT NOT NULL,
    worker_id   TEXT NOT NULL,
    adapter_id  TEXT,
    error       TEXT,
    finished_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
