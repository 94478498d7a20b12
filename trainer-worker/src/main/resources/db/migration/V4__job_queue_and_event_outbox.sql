-- The queue every worker claims from (see trainer-worker/README.md, "Scheduling"). Whichever worker's consumer reads a
-- JobRequested from foundry.jobs.requested writes it here and commits the offset at once; an idle worker claims the
-- best queued job with SELECT ... FOR UPDATE SKIP LOCKED and takes its lease in the same transaction. A job is
-- claimable while it is 'queued' and nobody holds a live lease on it, so a dead worker's job is claimed again as soon as
-- its lease expires, by whichever worker is free.
CREATE TABLE job_queue (
    job_id           TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL,
    -- 0 high, 1 normal, 2 low (platform-contracts Priority.rank): smaller first
    priority         SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 2),
    -- the JobRequested JSON of the newest request of the job
    request          TEXT NOT NULL,
    -- JobRequested.attempt of that request: an older or equal request arriving later (a redelivery) changes nothing
    request_attempt  INT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'paused', 'done')),
    enqueued_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_by       TEXT,
    claimed_at       TIMESTAMPTZ
);
CREATE INDEX job_queue_queued ON job_queue (priority, enqueued_at, job_id) WHERE state = 'queued';
CREATE INDEX job_queue_tenant_claimed ON job_queue (tenant, claimed_at);

-- Per-tenant concurrency quota: at most max_running of the tenant's jobs hold a live lease at once. No row: unlimited.
CREATE TABLE tenant_quotas (
    tenant       TEXT PRIMARY KEY,
    max_running  INT NOT NULL CHECK (max_running >= 0),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The worker's outbox for the events that end a run (succeeded, failed, cancelled, paused): written in the same
-- transaction as the outcome, the queue state and the lease release, published to foundry.jobs.events afterwards and
-- again until the broker acknowledged it. A publish failure (Kafka down) is then a delay, never a retrained job.
CREATE TABLE event_outbox (
    id            BIGSERIAL PRIMARY KEY,
    job_id        TEXT NOT NULL,
    -- the JobEvent JSON, seq included (job-api drops a seq it already applied, so a second publish is harmless)
    payload       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ,
    attempts      INT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX event_outbox_unpublished ON event_outbox (id) WHERE published_at IS NULL;
