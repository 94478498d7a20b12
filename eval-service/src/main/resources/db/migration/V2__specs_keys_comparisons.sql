-- Job specs as job-api queued them (from foundry.jobs.requested), so a finished job's model, files, seed and
-- hyperparameters are known without reading another tenant's job through job-api.
CREATE TABLE job_specs (
    job_id      TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    spec        JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A baseline is keyed by (model, training-file digest, evaluation-file digest, task): the same data under other
-- file ids or another tenant shares one baseline. The first row inserted for a key wins and submits the job.
DO $$
DECLARE c TEXT;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'baselines'::regclass AND contype = 'u' LOOP
        EXECUTE format('ALTER TABLE baselines DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
ALTER TABLE baselines ADD COLUMN baseline_key TEXT;
ALTER TABLE baselines ADD COLUMN training_digest TEXT;
ALTER TABLE baselines ADD COLUMN validation_digest TEXT;
ALTER TABLE baselines ADD COLUMN evaluation_id TEXT;
ALTER TABLE baselines ADD COLUMN error TEXT;
CREATE UNIQUE INDEX baselines_key ON baselines (baseline_key);
CREATE INDEX baselines_job ON baselines (job_id);

-- one evaluation per (job, adapter): a redelivered succeeded event finds the row and does nothing
ALTER TABLE evaluations ADD COLUMN adapter_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX evaluations_job_adapter ON evaluations (job_id, adapter_key);
ALTER TABLE evaluations ADD COLUMN is_baseline BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE evaluations ADD COLUMN baseline_key TEXT;
-- the worker's final numbers (trainable_parameters, total_parameters, train_seconds, tokens_per_second,
-- peak_rss_bytes …) plus adapter_bytes and model_bytes measured here
ALTER TABLE evaluations ADD COLUMN job_metrics JSONB;
CREATE INDEX evaluations_baseline_key ON evaluations (baseline_key);
