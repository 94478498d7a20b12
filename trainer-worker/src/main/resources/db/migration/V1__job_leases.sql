-- trainer-worker schema "worker": which worker holds which job. A worker renews its lease while it trains; a lease
-- that expired (the worker died) lets another worker take the job over from its last checkpoint.

CREATE TABLE job_leases (
    job_id       TEXT PRIMARY KEY,
    worker_id    TEXT NOT NULL,
    attempt      INT NOT NULL CHECK (attempt >= 1),
    acquired_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    renewed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_leases_worker ON job_leases (worker_id);
CREATE INDEX job_leases_expires ON job_leases (expires_at);
