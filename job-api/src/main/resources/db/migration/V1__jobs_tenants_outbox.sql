-- job-api schema "jobs": tenants and their API keys, jobs and their events, the outbox relayed to Kafka,
-- and idempotency keys of job creation. Ids are prefixed strings (ftjob-…, ftevent-…, key-…).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    -- SHA-256 (hex) of the secret: the secret itself is shown once and never stored
    key_hash      TEXT NOT NULL UNIQUE,
    -- first characters of the secret, so a user can tell keys apart in listings
    key_prefix    TEXT NOT NULL,
    name          TEXT,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    status            TEXT NOT NULL CHECK (status IN ('validating_files', 'queued', 'running', 'succeeded',
                                                      'failed', 'cancelled', 'paused')),
    -- the validated job spec with defaults filled in (platform-contracts JobSpec JSON)
    spec              JSONB NOT NULL,
    -- copied out of the spec for filtering and listing
    model             TEXT NOT NULL,
    task              TEXT NOT NULL,
    method_type       TEXT NOT NULL,
    training_file     TEXT NOT NULL,
    validation_file   TEXT,
    attempt           INT NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    -- {step, total_steps, epoch, percent}
    progress          JSONB,
    trained_tokens    BIGINT,
    adapter_id        TEXT,
    -- last checkpoint artifact id, where a resume starts from
    checkpoint_id     TEXT,
    -- {code, message, param}
    error             JSONB,
    -- highest JobEvent.seq applied, so a redelivered event is not applied twice
    last_event_seq    BIGINT NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    estimated_finish  TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- GET /v1/fine_tuning/jobs?after=&limit= lists a tenant's jobs newest first
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC, id DESC);

CREATE TABLE job_events (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    -- JobEvent.seq from the worker; unique per job so replays are idempotent
    seq         BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    level       TEXT NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warn', 'error')),
    type        TEXT NOT NULL CHECK (type IN ('message', 'metrics', 'status', 'checkpoint')),
    message     TEXT,
    data        JSONB,
    UNIQUE (job_id, seq)
);

-- transactional outbox: written in the same transaction as the job row, relayed to Kafka afterwards
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    topic         TEXT NOT NULL,
    message_key   TEXT NOT NULL,
    payload       JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ,
    attempts      INT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- POST /v1/fine_tuning/jobs with Idempotency-Key: same key + same body -> same job; other body -> 422
CREATE TABLE idempotency_keys (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key  TEXT NOT NULL,
    -- SHA-256 (hex) of the request body
    request_hash     TEXT NOT NULL,
    job_id           TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
