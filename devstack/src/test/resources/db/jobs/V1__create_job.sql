-- A migration the job-api could own: it must land in the login's own schema.
create table job (
    id         text primary key,
    status     text not null,
    created_at timestamptz not null default now()
);
