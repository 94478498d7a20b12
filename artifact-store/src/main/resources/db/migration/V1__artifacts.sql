-- Artifact manifests. Blobs live in S3 at blobs/sha256/<digest>; a row points at one blob.
-- Several rows (tenants, re-uploads) may share a blob: identical content is stored once.
create table artifacts (
    id             text primary key,                 -- generated: file-…, model-…, adapter-…, ckpt-…
    tenant         text        not null,
    kind           text        not null check (kind in ('dataset', 'model', 'adapter', 'checkpoint', 'report')),
    name           text        not null,              -- the user's file name: display only, never a key or path
    digest         text        not null check (digest ~ '^[0-9a-f]{64}$'),  -- sha-256 hex of the blob
    size           bigint      not null check (size >= 0),
    media_type     text        not null,
    annotations    jsonb       not null default '{}'::jsonb,  -- lineage: base model, method, rank, dataset digest, job id …
    created_at     timestamptz not null default now(),
    -- datasets
    purpose        text,                               -- fine-tune | eval
    task           text,                               -- classification | sft | continued_pretraining
    line_count     bigint,
    labels         jsonb,                              -- sorted distinct labels (classification)
    -- checkpoints and adapters
    job_id         text,
    attempt        integer,
    step           bigint
);

create index artifacts_tenant_kind_created on artifacts (tenant, kind, created_at desc, id);
create index artifacts_checkpoints_by_job on artifacts (job_id, attempt, step) where kind = 'checkpoint';
create index artifacts_digest on artifacts (digest);
-- model names resolve to one model per tenant (built-ins live under tenant '_builtin')
create unique index artifacts_model_name on artifacts (tenant, name) where kind = 'model';
