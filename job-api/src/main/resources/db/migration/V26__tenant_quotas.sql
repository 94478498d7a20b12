-- Per-tenant concurrency quotas as an admin set them (PUT /v1/admin/tenants/{id}/quota): read back by GET on the same
-- path and by the queue positions (a job held by its tenant's quota is not next). The workers enforce them from
-- foundry.tenants.quotas (worker.tenant_quotas). No row: unlimited.
CREATE TABLE tenant_quotas (
    tenant_id         TEXT PRIMARY KEY REFERENCES tenants (id),
    max_running_jobs  INT NOT NULL CHECK (max_running_jobs >= 0),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
