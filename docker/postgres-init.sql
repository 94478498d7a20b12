-- PEFT Foundry: database and per-service logins for the postgres:16 image.
-- Mounted into /docker-entrypoint-initdb.d/ by docker-compose.yml; the entrypoint runs it once,
-- with psql as superuser "postgres", when the data volume is empty.
-- The password comes from the container's FOUNDRY_PG_PASSWORD (psql 15+ \getenv).
-- Mirrors what devstack does on embedded PostgreSQL: one login + schema it owns per service,
-- the login's search_path set to its schema.

\set ON_ERROR_STOP on
\getenv foundry_pg_password FOUNDRY_PG_PASSWORD

SELECT 'CREATE DATABASE foundry'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'foundry') \gexec

\connect foundry

-- job-api, artifact-store, eval-service, trainer-worker, web-console
CREATE ROLE jobs      LOGIN PASSWORD :'foundry_pg_password';
CREATE ROLE artifacts LOGIN PASSWORD :'foundry_pg_password';
CREATE ROLE evals     LOGIN PASSWORD :'foundry_pg_password';
CREATE ROLE worker    LOGIN PASSWORD :'foundry_pg_password';
CREATE ROLE console   LOGIN PASSWORD :'foundry_pg_password';

CREATE SCHEMA IF NOT EXISTS jobs      AUTHORIZATION jobs;
CREATE SCHEMA IF NOT EXISTS artifacts AUTHORIZATION artifacts;
CREATE SCHEMA IF NOT EXISTS evals     AUTHORIZATION evals;
CREATE SCHEMA IF NOT EXISTS worker    AUTHORIZATION worker;
CREATE SCHEMA IF NOT EXISTS console   AUTHORIZATION console;

ALTER ROLE jobs      IN DATABASE foundry SET search_path = jobs;
ALTER ROLE artifacts IN DATABASE foundry SET search_path = artifacts;
ALTER ROLE evals     IN DATABASE foundry SET search_path = evals;
ALTER ROLE worker    IN DATABASE foundry SET search_path = worker;
ALTER ROLE console   IN DATABASE foundry SET search_path = console;

-- A login creates objects only in its own schema (PostgreSQL 15+ already denies CREATE on public).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE foundry TO jobs, artifacts, evals, worker, console;
