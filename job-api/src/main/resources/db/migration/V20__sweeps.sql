-- Sweeps (POST /v1/sweeps): a set of ordinary jobs made from one base spec and ranked by a validation metric.
-- The children are rows of jobs like any other; sweep_children ties them to their sweep, their trial number and the
-- parameters the sweep gave them, and records successive halving's verdicts.
CREATE TABLE sweeps (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    request           JSONB NOT NULL,
    metric            TEXT NOT NULL,
    higher_is_better  BOOLEAN NOT NULL,
    early_stopping    BOOLEAN NOT NULL,
    cancelled         BOOLEAN NOT NULL DEFAULT false,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sweeps_tenant ON sweeps (tenant_id, created_at DESC);

CREATE TABLE sweep_children (
    sweep_id      TEXT NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    trial         INT NOT NULL,
    job_id        TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    params        JSONB NOT NULL,
    -- rungs of successive halving this child has been judged at; a stop_reason when it was stopped
    judged_rungs  INT NOT NULL DEFAULT 0,
    stop_reason   TEXT,
    PRIMARY KEY (sweep_id, trial)
);
CREATE INDEX sweep_children_job ON sweep_children (job_id);
