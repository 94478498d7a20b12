-- Jobs cancelled through foundry.jobs.control, recorded by whichever worker reads the cancel first, so a JobRequested
-- that reaches a worker later (the job was cancelled while queued) is skipped without being started, also by a worker
-- that was not running when the cancel was sent.
CREATE TABLE job_cancellations (
    job_id        TEXT PRIMARY KEY,
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
