-- Issue 19: the two-stage recipe (continued pretraining → SFT of the same adapter) measured against SFT alone.

-- Per-example outcomes of causal-LM evaluations (per sequence: summed NLL, target tokens, argmax hits; per exact-match
-- case: matched or not), for paired bootstrap intervals of two models' deltas on the same validation file.
ALTER TABLE evaluations ADD COLUMN IF NOT EXISTS causal_outcomes JSONB;

-- The SFT-only counterpart of a two-stage adapter: the same sft spec without init_adapter, submitted once per key in
-- the tenant's name (as baselines are). Key: tenant | model | data digests | hash of the rest of the spec.
CREATE TABLE sft_counterparts (
    id               TEXT PRIMARY KEY,
    counterpart_key  TEXT NOT NULL UNIQUE,
    tenant_id        TEXT NOT NULL,
    job_id           TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    evaluation_id    TEXT,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sft_counterparts_job ON sft_counterparts (job_id);

-- On a two-stage sft evaluation: its counterpart's key, and the post_pretraining block (two-stage vs SFT-only).
ALTER TABLE evaluations ADD COLUMN IF NOT EXISTS counterpart_key TEXT;
ALTER TABLE evaluations ADD COLUMN IF NOT EXISTS post_pretraining JSONB;
CREATE INDEX evaluations_counterpart_key ON evaluations (counterpart_key) WHERE counterpart_key IS NOT NULL;
