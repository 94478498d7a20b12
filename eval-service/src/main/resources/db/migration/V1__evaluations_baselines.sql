-- eval-service schema "evals": evaluations of trained adapters, and the full-fine-tune baselines they are compared
-- with (one baseline per backbone, task, training and validation file, and seed).

CREATE TABLE baselines (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    model            TEXT NOT NULL,
    task             TEXT NOT NULL,
    training_file    TEXT NOT NULL,
    validation_file  TEXT NOT NULL,
    seed             BIGINT NOT NULL,
    -- the full fine-tune job that produced the baseline, and its status while it runs
    job_id           TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    -- e.g. {accuracy, macro_f1, loss} or {perplexity, loss}
    metrics          JSONB,
    trainable_parameters  BIGINT,
    total_parameters      BIGINT,
    train_seconds         DOUBLE PRECISION,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    UNIQUE (tenant_id, model, task, training_file, validation_file, seed)
);

CREATE TABLE evaluations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    job_id           TEXT NOT NULL,
    adapter_id       TEXT,
    model            TEXT NOT NULL,
    task             TEXT NOT NULL,
    method_type      TEXT NOT NULL,
    training_file    TEXT NOT NULL,
    validation_file  TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    metrics          JSONB,
    trainable_parameters  BIGINT,
    total_parameters      BIGINT,
    train_seconds         DOUBLE PRECISION,
    baseline_id      TEXT REFERENCES baselines (id),
    -- adapter metrics minus baseline metrics, when the baseline exists
    comparison       JSONB,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ
);
CREATE INDEX evaluations_job ON evaluations (tenant_id, job_id);
-- GET /v1/leaderboard?model=&training_file=
CREATE INDEX evaluations_leaderboard ON evaluations (tenant_id, model, training_file);
